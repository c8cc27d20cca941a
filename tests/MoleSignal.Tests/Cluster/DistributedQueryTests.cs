using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Grains;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Query;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;
using MoleSignal.Silo.Startup;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;

namespace MoleSignal.Tests.Cluster;

/// <summary>
/// An ingester silo (the coordinator) and two querier silos in one TestingHost cluster, each with the whole node
/// wired as the binary wires it, on one SQLite metadata file and one local object store. Every query's
/// distributed answer (files sharded to ScanGrains on the queriers) equals the local engine's on the same silo.
/// </summary>
public sealed class DistributedQueryTests : IAsyncLifetime
{
    private static readonly string[] RolesBySilo = ["ingester", "querier", "querier"];
    private readonly TempDir _dir = new("ms-dist");
    private MetaStore _meta = null!;
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _meta = MetaStore.Sqlite(_dir.Combine("meta.db"));
        await MigrationRunner.ApplyAsync(_meta);
        var store = new LocalObjectStore(_dir.Combine("objects"));
        var next = 0;
        var builder = new InProcessTestClusterBuilder((short)RolesBySilo.Length);
        builder.ConfigureSilo((_, silo) =>
        {
            var n = Interlocked.Increment(ref next) - 1;
            var roles = new RoleSet([RolesBySilo[n]]);
            var config = new MoleSignalConfig();
            config.Node.Id = $"silo-{n}";
            config.Node.DataDir = _dir.Combine($"node{n}");
            config.Wal.Dir = _dir.Combine($"node{n}", "wal");
            config.Ingester.FlushIntervalSecs = 3600; // flushes only when the test asks
            silo.UseSiloMetadata(new Dictionary<string, string> { ["roles"] = roles.MetadataValue });
            silo.Services.AddMoleSignalPlacement();
            silo.Services.AddMoleSignalNode(config, new ConfigurationBuilder().Build(), roles, store, new ObjectStoreProbe(store), _meta);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    [Fact]
    public async Task Distributed_answers_equal_local_answers()
    {
        var coordinator = _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress);
        var queriers = coordinator.GetRequiredService<QuerierSilos>();
        await Poll.UntilAsync(() => Task.FromResult(queriers.Active().Count), n => n == 2, TimeSpan.FromSeconds(30), "two querier silos known");

        var lines = Encoding.UTF8.GetString(GenLogs.Generate(20_000)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var grain = _cluster.Client.GetGrain<IStreamGrain>(new StreamKey("default", "logs", "dist").GrainKey);
        // Ten flushed files of 1,980 records, and 200 records left in the buffer.
        var chunks = lines.Take(19_800).Chunk(1_980).Append(lines.Skip(19_800).ToArray()).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            using var batchBuilder = new RecordBuilder(new IngestLimits(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
            Assert.Null(JsonBodyParser.Parse(Encoding.UTF8.GetBytes(string.Join('\n', chunks[i])), batchBuilder));
            foreach (var batch in batchBuilder.Build()) Assert.Equal(AppendStatus.Ok, (await grain.Append(batch)).Status);
            if (i < chunks.Count - 1) await grain.Flush();
        }
        var files = await new StreamMetaStore(_meta).FilesAsync(new StreamKey("default", "logs", "dist"));
        Assert.True(files.Count >= 8, $"{files.Count} files");

        var distributed = coordinator.GetRequiredService<IQueryService>();
        var local = new QueryService(coordinator.GetRequiredService<LiveSettings<QuerySettings>>(), coordinator.GetRequiredService<StreamMetaStore>(),
            coordinator.GetRequiredService<FileIndex>(), coordinator.GetRequiredService<IGrainFactory>(), coordinator.GetRequiredService<ObjectFiles>(), coordinator.GetRequiredService<IndexPruner>(),
            coordinator.GetRequiredService<OrgEngines>(), coordinator.GetRequiredService<IStreamCatalog>(),
            coordinator.GetRequiredService<LiveSettings<IngestSettings>>(), queriers: null);
        // Before the first file ends no row is buffered: the index answers match_all alone (rows by number).
        var firstEnd = files.Min(f => f.MaxTs);
        string[] queries =
        [
            $"SELECT _timestamp, service, message FROM dist WHERE match_all('xyzzy3') AND _timestamp <= {firstEnd} LIMIT 100",
            "SELECT count(*) FROM dist WHERE level IS NOT NULL OR level IS NULL",
            "SELECT count(*), 42 AS answer FROM dist WHERE 1 = 1",
            "SELECT count(*) FROM dist WHERE level = 'ERROR'",
            "SELECT service, count(*) AS c, avg(http_duration_ms) FROM dist GROUP BY service ORDER BY c DESC",
            "SELECT _timestamp // 60000000 AS m, count(*) FROM dist GROUP BY m ORDER BY m",
            "SELECT _timestamp, service, message FROM dist WHERE match_all('xyzzy3') ORDER BY _timestamp",
            "SELECT kubernetes_pod_name, quantile_cont(http_duration_ms, 0.95) AS p95 FROM dist WHERE http_status >= 500 GROUP BY 1 ORDER BY p95 DESC, 1 LIMIT 10",
            "SELECT * FROM dist ORDER BY _timestamp DESC LIMIT 300",
            "SELECT count(DISTINCT kubernetes_pod_name), max(message) FROM dist WHERE str_match(message, 'GET') AND (http_status BETWEEN 200 AND 299 OR level IN ('WARN', 'ERROR'))",
            "SELECT level, count(*) FROM dist WHERE _timestamp >= (SELECT min(_timestamp) FROM dist) GROUP BY level ORDER BY level",
        ];
        var remoteBefore = QueryMetrics.Shards.WithLabels("remote").Value;
        var retriesBefore = QueryMetrics.Shards.WithLabels("local_retry").Value;
        foreach (var sql in queries)
        {
            var expected = await Answer(local, sql);
            var shardsBefore = QueryMetrics.Shards.WithLabels("remote").Value;
            var actual = await Answer(distributed, sql);
            Assert.True(QueryMetrics.Shards.WithLabels("remote").Value > shardsBefore, $"{sql}: no shard went to a querier");
            Assert.True(expected.Count > 0, $"{sql}: no rows, nothing compared");
            Assert.Equal(expected, actual);
        }
        // Most queries read every file: both queriers scanned.
        Assert.True(QueryMetrics.Shards.WithLabels("remote").Value - remoteBefore >= queries.Length + 5);
        Assert.Equal(retriesBefore, QueryMetrics.Shards.WithLabels("local_retry").Value);
    }

    [Fact]
    public async Task A_scan_request_passes_the_same_sql_gate_as_a_user_query()
    {
        await Poll.UntilAsync(() => Task.FromResult(_cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<QuerierSilos>().Active().Count),
            n => n == 2, TimeSpan.FromSeconds(30), "two querier silos known");
        var request = new ScanRequest("default", "dist", [("_timestamp", "int64")], [], long.MinValue, long.MaxValue,
            "SELECT * FROM read_text('/etc/passwd')");
        var e = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var _ in _cluster.Client.GetGrain<IScanGrain>("2:0").Scan(request)) { }
        });
        Assert.Contains("not allowed", e.Message);

        // Another org's data file, or a quarantined WAL entry, is refused before anything is fetched.
        foreach (var key in new[] { "other/logs/dist/2026-01-01/x.parquet", "default/_quarantine/logs/dist/1-1.wal" })
        {
            var foreign = request with { Sql = "SELECT * FROM dist", Files = [new ScanFile(key, null)] };
            var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await foreach (var _ in _cluster.Client.GetGrain<IScanGrain>("2:1").Scan(foreign)) { }
            });
            Assert.Contains("its own org's data files", refused.Message);
        }
    }

    /// <summary>
    /// Rows as JSON strings, floats to 9 significant digits (sums in another order differ in the last bits), sorted
    /// (rows that tie on the ORDER BY may come in either order).
    /// </summary>
    private static async Task<List<string>> Answer(IQueryService service, string sql)
    {
        await using var cursor = await service.OpenAsync(new QueryRequest("default", sql, Limit: 0), CancellationToken.None);
        var rows = new List<string>();
        await foreach (var row in cursor.ReadRowsAsync(CancellationToken.None))
            rows.Add(JsonSerializer.Serialize(row.Select(v => v is double d ? (object)d.ToString("G9") : v)));
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _meta.DisposeAsync();
        _dir.Dispose();
    }
}
