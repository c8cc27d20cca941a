using System.Diagnostics;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains;
using MoleSignal.Grains.Query;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Query;

/// <summary>Per-org structures are bounded: many orgs cost no more threads, timers or engines than a few.</summary>
[Collection(MoleSignal.Tests.Processes.ProcessCollection.Name)] // counts the test process's threads: nothing else may run
public sealed class EngineBoundsTests : IDisposable
{
    private readonly TempDir _dir = new("ms-engines");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Thousands_of_orgs_leave_engine_and_thread_counts_flat()
    {
        var settings = new LiveSettings<QuerySettings>(new QuerySettings(TimeSpan.FromSeconds(30), 4, 256, 2, 100,
            _dir.Combine("query-tmp"), MaxEngines: 8));
        var files = new ObjectFiles(new LocalObjectStore(_dir.Combine("objects")), _dir.Combine("cache"), 1 << 20);
        using var engines = new OrgEngines(settings, files);
        void Query(string org)
        {
            using var conn = engines.Connect(org);
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM range(1000)";
            Assert.Equal(1000L, cmd.ExecuteScalar());
        }
        for (var i = 0; i < 20; i++) Query($"warm{i}");
        var threads = Process.GetCurrentProcess().Threads.Count;
        var rss = Process.GetCurrentProcess().WorkingSet64;
        for (var i = 0; i < 2000; i++) Query($"org{i}");
        Assert.True(engines.Count <= 8, $"{engines.Count} engines open");
        var after = Process.GetCurrentProcess().Threads.Count;
        Assert.True(after <= threads + 8, $"threads {threads} -> {after}");
        // 2,000 engines kept open would hold several GiB; closed ones give their memory back.
        var grown = (Process.GetCurrentProcess().WorkingSet64 - rss) >> 20;
        Assert.True(grown < 400, $"RSS grew {grown} MiB over 2,000 orgs");
        // Each org's engine spills into its own scratch directory, never a shared one.
        Assert.Equal(Path.Combine(Path.GetFullPath(_dir.Combine("query-tmp")), "org7"), engines.ScratchRoot("org7"));
    }

    [Fact]
    public void Rate_limit_buckets_of_many_orgs_need_no_timer_each()
    {
        using var limits = new OrgRateLimits(new RateLimitSource(() => (1000, 100)));
        Assert.Null(limits.TryAcquire("warm", RouteClass.Query));
        var timers = Timer.ActiveCount;
        for (var i = 0; i < 10_000; i++) Assert.Null(limits.TryAcquire($"org{i}", RouteClass.Ingest));
        Assert.True(Timer.ActiveCount <= timers + 2, $"timers {timers} -> {Timer.ActiveCount}");
        // The limit still holds per org.
        var refused = Enumerable.Range(0, 150).Count(_ => limits.TryAcquire("busy", RouteClass.Query) is not null);
        Assert.True(refused >= 40, $"{refused} refused past 100 queries a second");
    }
}
