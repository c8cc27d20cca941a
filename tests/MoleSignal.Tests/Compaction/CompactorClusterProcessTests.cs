using System.Net;
using System.Text.Json;
using MoleSignal.Grains.Metadata;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Compaction;

/// <summary>
/// Two compactor processes on one Postgres and the S3 test server, beside a node that ingests and queries. They
/// split the partitions; the queries answer the same after the merges; one compactor is frozen holding a partition's
/// lease and killed with -9, and the other takes the partition over once the lease lapses. Every acknowledged
/// record is in the files exactly once at the end.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CompactorClusterProcessTests(PostgresServer pg, S3Server s3)
    : IClassFixture<PostgresServer>, IClassFixture<S3Server>
{
    private static readonly string[] Streams = ["alpha", "bravo", "charlie"];
    private const int Days = 3, Rounds = 4, PerDay = 50;

    private static readonly string[] FixedQueries =
    [
        "SELECT count(*), count(DISTINCT id), min(_timestamp), max(_timestamp) FROM {0} WHERE id LIKE 'r%'",
        "SELECT level, count(*), sum(n) FROM {0} WHERE id LIKE 'r%' GROUP BY level ORDER BY level",
        "SELECT count(*) FROM {0} WHERE id LIKE 'r%' AND match_all('needle')",
        "SELECT id FROM {0} WHERE id = 'r2-1-7'",
    ];

    private static string Line(long ts, string id, int n) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["_timestamp"] = ts, ["id"] = id, ["n"] = n, ["level"] = n % 3 == 0 ? "warn" : "info",
        ["message"] = n % 7 == 0 ? $"a needle in {id}" : $"hay {id}",
    });

    private static Task<List<string>> AnswersAsync(HttpClient http) =>
        NodeQueries.RowsAsync(http, Streams.SelectMany(stream => FixedQueries.Select(sql => string.Format(sql, stream))));

    [Fact]
    public async Task Two_compactors_split_the_partitions_and_a_killed_ones_is_taken_over_losing_or_doubling_nothing()
    {
        var db = await pg.CreateDatabaseAsync();
        var prefix = "c" + Guid.NewGuid().ToString("N")[..8];
        var dirs = new List<TempDir>();
        var nodes = new Dictionary<string, MoleSignalNode>();
        MoleSignalNode Start(string id, string roles)
        {
            var env = MoleSignalNode.ClusterEnv(id, roles, pg.Dsn(db));
            env["MS_STORE.OBJECT.BACKEND"] = "s3";
            env["MS_STORE.OBJECT.S3.BUCKET"] = S3Server.Bucket;
            env["MS_STORE.OBJECT.S3.ENDPOINT"] = s3.Endpoint;
            env["MS_STORE.OBJECT.S3.PREFIX"] = prefix;
            env["AWS_ACCESS_KEY_ID"] = "S3RVER";
            env["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
            env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1";
            env["MS_COMPACTOR.INTERVAL_SECS"] = "1";
            env["MS_COMPACTOR.LEASE_SECS"] = "3";
            env["MS_COMPACTOR.DELETE_DELAY_SECS"] = "1";
            var dir = new TempDir("ms-" + id);
            dirs.Add(dir);
            return nodes[id] = MoleSignalNode.Start(env, workDir: dir.Path);
        }
        await using var meta = MetaStore.Postgres(pg.Dsn(db), 2);
        var metaFiles = new StreamMetaStore(meta);
        async Task<Dictionary<string, int>> FilesPerPartition()
        {
            var map = new Dictionary<string, int>();
            foreach (var stream in Streams)
            foreach (var f in await metaFiles.FilesAsync(new("default", "logs", stream)))
            {
                var partition = $"{stream}/{Partitions.DayOf(f.MinTs)}";
                map[partition] = map.GetValueOrDefault(partition) + 1;
            }
            return map;
        }
        try
        {
            var main = Start("main", "router,ingester,querier");
            await main.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            var today = Partitions.DayOf(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
            // Each round flushes one file per stream and day: Rounds small files in each of 9 partitions.
            for (var r = 0; r < Rounds; r++)
            {
                foreach (var stream in Streams)
                    await NodeQueries.IngestAsync(main.Http, stream, Enumerable.Range(1, Days).SelectMany(d =>
                            Enumerable.Range(0, PerDay).Select(i =>
                                Line(Partitions.DayStart(today - d) + r * 1_000_000 + i, $"r{r}-{d}-{i}", i)))
                        .ToList(), Days * PerDay);
                await Poll.UntilAsync(FilesPerPartition,
                    m => m.Count == Streams.Length * Days && m.Values.All(n => n == r + 1),
                    TimeSpan.FromSeconds(60), $"round {r} flushed");
            }
            var before = await AnswersAsync(main.Http);
            Assert.Equal(Rounds * Days * PerDay, JsonDocument.Parse(before[0]).RootElement[0][1].GetInt64());

            // Either may merge everything before the other serves /metrics: both are waited for.
            var compactors = new[] { Start("compactor-1", "compactor"), Start("compactor-2", "compactor") };
            foreach (var c in compactors) await c.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            await Poll.UntilAsync(FilesPerPartition, m => m.Count == Streams.Length * Days && m.Values.All(n => n == 1),
                TimeSpan.FromSeconds(120), "one file per partition");
            Assert.Equal(before, await AnswersAsync(main.Http));
            Task<double> Merged(string id) =>
                NodeMetrics.ValueAsync(nodes[id].Http, "compactor_merges_total{result=\"ok\"}");
            Assert.Equal(Streams.Length * Days, (int)(await Merged("compactor-1") + await Merged("compactor-2")));

            // Live ingest keeps small files coming, so both compactors keep merging; compactor-1 is caught holding a
            // lease (frozen, then the lease row checked: a frozen holder cannot release it) and killed.
            using var stop = new CancellationTokenSource();
            var acked = new System.Collections.Concurrent.ConcurrentBag<string>();
            var uncertain = new System.Collections.Concurrent.ConcurrentBag<string>();
            var ingest = Task.Run(async () =>
            {
                for (var b = 0; !stop.IsCancellationRequested; b++)
                {
                    var stream = Streams[b % Streams.Length];
                    var id = $"live-{b}";
                    var lines = Enumerable.Range(0, 30).Select(i =>
                        Line(Partitions.DayStart(today - 1 - i % Days) + 3_600_000_000L + b * 100 + i, $"{id}-{i}", i));
                    try
                    {
                        using var resp = await main.Http.PostAsync($"/api/v1/ingest/{stream}",
                            new StringContent(string.Join("\n", lines)));
                        (resp.StatusCode == HttpStatusCode.OK ? acked : uncertain).Add(id);
                    }
                    catch (HttpRequestException)
                    {
                        uncertain.Add(id);
                    }
                    await Task.Delay(30);
                }
            });
            string? held = null;
            while (held is null)
            {
                var partition = await Poll.UntilAsync(() => meta.ScalarAsync(
                        "SELECT stream || '/' || day FROM compactor_leases WHERE holder = 'compactor-1' LIMIT 1"),
                    p => p is string, TimeSpan.FromSeconds(120), "compactor-1 holding a lease");
                nodes["compactor-1"].Process.Freeze();
                var still = await meta.ScalarAsync(
                    "SELECT COUNT(*) FROM compactor_leases " +
                    $"WHERE holder = 'compactor-1' AND stream || '/' || day = '{partition}'");
                if (Convert.ToInt64(still) == 1) held = (string)partition!;
                else ChildProcess.Signal(nodes["compactor-1"].Process.Pid, 18); // it finished first: go on, try again
            }
            var mergedBy2 = await Merged("compactor-2");
            nodes["compactor-1"].Process.Kill();
            await Poll.UntilAsync(() => Task.FromResult(acked.Count), n => n >= 60, TimeSpan.FromSeconds(60),
                "live ingest after the kill");
            await stop.CancelAsync();
            await ingest;

            // compactor-2 alone finishes everything, the partition compactor-1 died on included.
            await Poll.UntilAsync(FilesPerPartition, m => m.Count == Streams.Length * Days && m.Values.All(n => n == 1),
                TimeSpan.FromSeconds(120), "one file per partition again, by compactor-2");
            Assert.True(await Merged("compactor-2") > mergedBy2, "compactor-2 merged nothing after the kill");
            Assert.Equal(before, await AnswersAsync(main.Http));
            // Every acknowledged live batch exactly once; nothing that was never sent.
            var counts = new Dictionary<string, long>();
            foreach (var stream in Streams)
            foreach (var row in (await AuthApi.SendAsync(main.Http, HttpMethod.Post, "/api/v1/query", new
                     {
                         sql = "SELECT split_part(id, '-', 1) || '-' || split_part(id, '-', 2) AS b, count(*), " +
                               "count(DISTINCT id) " +
                               $"FROM {stream} WHERE id LIKE 'live-%' GROUP BY b",
                         limit = 0,
                     })).GetProperty("rows").EnumerateArray())
            {
                Assert.Equal(row[1].GetInt64(), row[2].GetInt64()); // no record twice
                counts[row[0].GetString()!] = row[1].GetInt64();
            }
            foreach (var id in acked)
                Assert.True(counts.GetValueOrDefault(id) == 30,
                    $"acknowledged {id}: {counts.GetValueOrDefault(id)} of 30");
            Assert.All(counts, c =>
                Assert.True(acked.Contains(c.Key) || uncertain.Contains(c.Key), $"{c.Key} was never sent"));
        }
        finally
        {
            foreach (var node in nodes.Values) node.Dispose();
            foreach (var dir in dirs) dir.Dispose();
        }
    }
}
