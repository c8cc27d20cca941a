using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Ingest;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;

namespace MoleSignal.Tests.Cluster;

public interface IPlacementProbe : IGrainWithStringKey
{
    Task<string> Where();
}

[IngesterPlacement]
public sealed class PlacementProbe : Grain, IPlacementProbe
{
    public Task<string> Where() => Task.FromResult(RuntimeIdentity);
}

/// <summary>Silos of different roles in one TestingHost cluster: stream grains only on ingesters, by key.</summary>
public sealed class PlacementTests : IAsyncLifetime
{
    private static readonly string[] RolesBySilo = ["router", "ingester", "querier,compactor", "ingester,querier"];
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var next = 0;
        var builder = new InProcessTestClusterBuilder((short)RolesBySilo.Length);
        builder.ConfigureSilo((options, silo) =>
        {
            var roles = RolesBySilo[Interlocked.Increment(ref next) - 1];
            silo.UseSiloMetadata(new Dictionary<string, string> { ["roles"] = roles });
            silo.Services.AddMoleSignalPlacement();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    [Fact]
    public async Task Stream_grains_go_only_to_ingesters_deterministically_by_org_and_stream()
    {
        var silos = _cluster.Silos.ToList();
        Assert.Equal(RolesBySilo.Length, silos.Count);
        // The silos whose metadata says ingester, by asking each silo's own metadata cache.
        var cache = _cluster.GetSiloServiceProvider(silos[0].SiloAddress).GetService(typeof(ISiloMetadataCache)) as ISiloMetadataCache;
        Assert.NotNull(cache);
        var ingesters = await Poll.UntilAsync(() => Task.FromResult(silos.Select(s => s.SiloAddress).Where(a => IngesterPlacementDirector.IsIngester(cache!.GetSiloMetadata(a))).ToList()),
            l => l.Count == 2, TimeSpan.FromSeconds(30), "silo metadata known");

        var placed = new Dictionary<string, string>();
        for (var i = 0; i < 40; i++)
        {
            var key = $"org{i % 3}|logs|stream{i}";
            placed[key] = await _cluster.Client.GetGrain<IPlacementProbe>(key).Where();
        }
        var ingesterIds = ingesters.Select(a => a.ToString()).ToHashSet();
        Assert.All(placed.Values, where => Assert.Contains(where, ingesterIds));
        Assert.Equal(2, placed.Values.Distinct().Count()); // both ingesters got streams
        foreach (var (key, where) in placed)
            Assert.Equal(IngesterPlacementDirector.Owner(key, ingesters).ToString(), where);
        // The type is not part of the placement key: the same org|stream of another type lands together.
        Assert.Equal(placed["org0|logs|stream0"], await _cluster.Client.GetGrain<IPlacementProbe>("org0|metrics|stream0").Where());
    }

    [Fact]
    public void The_stream_grain_uses_ingester_placement() =>
        Assert.True(typeof(StreamGrain).IsDefined(typeof(IngesterPlacementAttribute), inherit: false));

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}
