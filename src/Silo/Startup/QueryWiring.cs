using MoleSignal.Grains;
using MoleSignal.Gateway.Query;
using MoleSignal.Grains.Abstractions.Jobs;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Jobs;
using MoleSignal.Silo.Workers;
using MoleSignal.Grains.Query;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Startup;

/// <summary>Config to the query engine's settings, and the services the read path needs.</summary>
public static class QueryWiring
{
    public static QuerySettings Settings(MoleSignalConfig c) => new(
        TimeSpan.FromSeconds(c.Querier.TimeoutSecs),
        c.Querier.MaxConcurrent,
        c.Querier.MemoryLimitMb,
        Math.Max(1, Environment.ProcessorCount),
        c.Querier.DefaultLimit,
        Path.Combine(c.Node.DataDir, "query-tmp"),
        // Engines of orgs beyond the running queries are only a warm cache: twice the query slots is plenty.
        MaxEngines: Math.Max(4, 2 * c.Querier.MaxConcurrent));

    public static IServiceCollection AddQuery(this IServiceCollection s, MoleSignalConfig config)
    {
        // Scratch files of queries that died with the process are of no use.
        var temp = Path.GetFullPath(Settings(config).TempDir);
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        s.AddSingleton(new LiveSettings<QuerySettings>(Settings(config)));
        s.AddSingleton(sp => new ObjectFiles(sp.GetRequiredService<IObjectStore>(),
            Path.Combine(config.Node.DataDir, "cache", "objects"), (long)config.Querier.CacheMaxMb << 20));
        s.AddSingleton<IndexPruner>();
        s.AddSingleton<OrgEngines>();
        s.AddSingleton<QueryService>();
        s.AddSingleton<IQueryService>(sp => sp.GetRequiredService<QueryService>());
        s.AddSingleton(new SearchJobSettings(config.SearchJobs.Workers, TimeSpan.FromSeconds(config.SearchJobs.IdlePollSecs),
            TimeSpan.FromSeconds(config.SearchJobs.CleanupIntervalSecs), TimeSpan.FromSeconds(config.SearchJobs.LeaseSecs),
            config.SearchJobs.MaxAttempts, TimeSpan.FromSeconds(config.SearchJobs.RetentionSecs)));
        s.AddSingleton<SearchJobStore>();
        s.AddSingleton<SearchJobRunner>();
        s.AddSingleton<ISearchJobs, SearchJobs>();
        s.AddHostedService<SearchJobWorkers>();
        s.AddSingleton(sp => new QueryRouting(() =>
        {
            var q = sp.GetRequiredService<LiveConfig>().Current.Querier;
            return new QueryLimits(q.AutoAsyncThresholdRows, q.MaxSqlKb * 1024, (long)q.MaxResultMb << 20);
        }));
        return s;
    }

    public static void FollowReloads(IServiceProvider sp)
    {
        var source = sp.GetRequiredService<LiveSettings<QuerySettings>>();
        sp.GetRequiredService<LiveConfig>().Changed += next => source.Update(Settings(next));
    }
}
