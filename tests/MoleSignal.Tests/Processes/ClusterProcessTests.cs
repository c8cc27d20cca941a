using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MoleSignal.Grains.Cluster;
using Orleans.Runtime;

namespace MoleSignal.Tests.Processes;

/// <summary>
/// One router, two ingesters, two queriers and a compactor as separate molesignal processes on a private
/// Postgres, sharing the local object store by path. genlogs records go in through the router; one ingester is
/// killed with -9 mid-ingest and restarted; every acknowledged batch must then be queryable through the router
/// exactly once (the queries run distributed over the two queriers).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ClusterProcessTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    private const int Streams = 6;
    private const int BatchSize = 100;

    private sealed class Ledger
    {
        public readonly HashSet<string> Acked = [];
        public readonly HashSet<string> Uncertain = [];
    }

    [Fact]
    public async Task A_role_cluster_keeps_every_acknowledged_record_through_an_ingester_kill_and_queries_it_distributed()
    {
        var db = await pg.CreateDatabaseAsync();
        using var objects = new TempDir("ms-objects");
        var nodes = new Dictionary<string, (Dictionary<string, string> Env, TempDir Dir)>();
        Dictionary<string, string> Env(string id, string roles)
        {
            var env = MoleSignalNode.ClusterEnv(id, roles, pg.Dsn(db));
            env["MS_STORE.OBJECT.ROOT"] = objects.Path;
            env["MS_CLUSTER.PEER_TIMEOUT_SECS"] = "3";
            env["MS_CLUSTER.SWEEP_AFTER_SECS"] = "6";
            env["MS_CLUSTER.SWEEP_INTERVAL_SECS"] = "1";
            // Nothing is flushed before the kill: ingester-1's share lives only in its WAL until it restarts.
            env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "600";
            env["MS_ROUTER.RATE_LIMIT.QUERY_QPS"] = "20";
            env["MS_ROUTER.RATE_LIMIT.INGEST_QPS"] = "0"; // four clients of small batches go past 1,000 requests/s
            nodes[id] = (env, new TempDir("ms-" + id));
            return env;
        }
        var layout = new (string Id, string Roles)[]
        {
            ("router", "router"), ("ingester-1", "ingester"), ("ingester-2", "ingester"),
            ("querier-1", "querier"), ("querier-2", "querier"), ("compactor-1", "compactor"),
        };
        var running = new Dictionary<string, MoleSignalNode>();
        MoleSignalNode Start(string id) => running[id] = MoleSignalNode.Start(nodes[id].Env, workDir: nodes[id].Dir.Path);
        try
        {
            foreach (var (id, roles) in layout) Env(id, roles);
            foreach (var (id, _) in layout) Start(id);
            foreach (var node in running.Values) await node.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            var router = running["router"];

            // One Orleans cluster of six silos, and cluster_nodes naming every role.
            await Poll.UntilAsync(() => Nodes(router.Http), v => v.GetProperty("orleans").GetArrayLength() == 6, TimeSpan.FromSeconds(60), "six silos in membership");
            var view = await Poll.UntilAsync(() => Nodes(router.Http), v => v.GetProperty("nodes").GetArrayLength() == 6, TimeSpan.FromSeconds(30), "six live nodes");
            Assert.Equal(["compactor", "ingester", "querier", "router"], view.GetProperty("nodes").EnumerateArray()
                .SelectMany(n => n.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!)).Distinct().Order().ToArray());

            // genlogs records through the router, each request a batch with its own id, into several streams so both
            // ingesters own some; ingester-1 is killed with -9 mid-ingest and started again.
            var lines = Encoding.UTF8.GetString(GenLogs.Generate(12_000)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var ledgers = Enumerable.Range(0, Streams).Select(_ => new Ledger()).ToArray();
            // Streams chosen so each ingester owns half of them (the placement hash over their silo endpoints), so
            // the kill always hits some streams and leaves others running.
            var ingesters = new[] { "ingester-1", "ingester-2" }
                .Select(id => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, int.Parse(nodes[id].Env["MS_CLUSTER.SILO_PORT"])), 0)).ToArray();
            var names = Enumerable.Range(0, 200).Select(i => $"s{i}")
                .GroupBy(name => IngesterPlacementDirector.Owner($"default|logs|{name}", ingesters).Endpoint.Port)
                .SelectMany(g => g.Take(Streams / 2)).ToArray();
            Assert.Equal(Streams, names.Length);
            var acks = 0;
            var failures = new System.Collections.Concurrent.ConcurrentBag<string>(); // status codes or exception types
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
            {
                using var http = MoleSignalNode.NewClient(router.Http.BaseAddress!, TimeSpan.FromSeconds(60));
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var stream = (c + n) % Streams;
                    var batch = $"c{c}-n{n}";
                    var body = new StringBuilder();
                    for (var i = 0; i < BatchSize; i++)
                        body.Append("{\"batch\":\"").Append(batch).Append("\",").Append(lines[(c * 3000 + n * BatchSize + i) % lines.Length].AsSpan(1)).Append('\n');
                    var content = new StringContent(body.ToString());
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                    try
                    {
                        using var resp = await http.PostAsync($"/api/v1/ingest/{names[stream]}", content);
                        if (resp.StatusCode == HttpStatusCode.OK)
                        {
                            lock (ledgers[stream]) ledgers[stream].Acked.Add(batch);
                            Interlocked.Increment(ref acks);
                            continue;
                        }
                        failures.Add($"{(int)resp.StatusCode}{(resp.Headers.RetryAfter is null ? "" : "+retry-after")}");
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        failures.Add(e.GetType().Name);
                    }
                    // Not acknowledged: it may or may not have reached a WAL.
                    lock (ledgers[stream]) ledgers[stream].Uncertain.Add(batch);
                    await Task.Delay(50);
                }
            })).ToArray();
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref acks)), n => n >= 60, TimeSpan.FromSeconds(120), "acknowledged batches before the kill");
            running["ingester-1"].Process.Kill();
            var acksAtKill = Volatile.Read(ref acks);
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref acks)), n => n >= acksAtKill + 30, TimeSpan.FromSeconds(180), "ingest goes on without ingester-1");
            var restarted = Start("ingester-1");
            await restarted.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            await Poll.UntilAsync(() => restarted.StatusAsync("/readyz"), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(120), "ingester-1 replayed its WAL");
            var acksAtRestart = Volatile.Read(ref acks);
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref acks)), n => n >= acksAtRestart + 30, TimeSpan.FromSeconds(180), "ingest after the restart");
            stop.Cancel();
            await Task.WhenAll(clients);
            // While ingester-1 was gone, its streams' requests were refused as retryable, never as server errors.
            Assert.NotEmpty(failures);
            Assert.All(failures, f => Assert.Equal("503+retry-after", f));
            Assert.Contains(restarted.Process.Output.Split('\n'), l => l.Contains("replayed") && l.Contains("into data files"));

            // Every acknowledged batch exactly once, nothing partial or duplicated, through the router.
            for (var s = 0; s < Streams; s++)
            {
                var counts = await BatchCounts(router.Http, names[s]);
                foreach (var id in ledgers[s].Acked)
                    Assert.True(counts.TryGetValue(id, out var n) && n == BatchSize, $"{names[s]}: acknowledged batch {id} has {counts.GetValueOrDefault(id)} of {BatchSize} records");
                foreach (var (id, n) in counts)
                {
                    Assert.True(ledgers[s].Acked.Contains(id) || ledgers[s].Uncertain.Contains(id), $"{names[s]}: batch {id} was never sent");
                    Assert.Equal(BatchSize, n);
                }
            }
            // The queries ran distributed: the router's shards went to the queriers.
            Assert.True(await Metric(router.Http, "query_shards_total{result=\"remote\"}") > 0, "no shard was scanned on a querier");
            // Placement across processes is the hash's: ingester-1 (the one killed, whose streams moved away and came
            // back) only ever held its own streams, and each ingester held some (WAL directories under its data dir).
            string[] WalStreams(string id) => Directory.GetDirectories(Path.Combine(nodes[id].Dir.Path, "data", "wal", "default", "logs"))
                .Select(Path.GetFileName).ToArray()!;
            var ownedBy1 = names.Where(n => IngesterPlacementDirector.Owner($"default|logs|{n}", ingesters) == ingesters[0]).ToHashSet();
            Assert.Subset(ownedBy1, WalStreams("ingester-1").ToHashSet());
            Assert.NotEmpty(WalStreams("ingester-1"));
            Assert.NotEmpty(WalStreams("ingester-2"));

            // Queriers killed while they hold a query's shards: the query still answers, correctly (the coordinator
            // reads those shards itself), and does not hang. Both are frozen (SIGSTOP) before the query starts, so no
            // shard can finish remotely before the kill: every shard of it is read again, whatever the timing.
            await using var meta = MoleSignal.Grains.Metadata.MetaStore.Postgres(pg.Dsn(db), 2);
            var busiest = (string)(await meta.ScalarAsync("SELECT stream FROM file_meta GROUP BY stream ORDER BY count(*) DESC, stream LIMIT 1"))!;
            var expected = await Count(router.Http, busiest);
            var retriedBefore = await Metric(router.Http, "query_shards_total{result=\"local_retry\"}");
            running["querier-1"].Process.Freeze();
            running["querier-2"].Process.Freeze();
            var frozen = Task.Run(() => Count(router.Http, busiest));
            await Poll.UntilAsync(() => Metric(router.Http, "query_running"), n => n >= 1 || frozen.IsCompleted,
                TimeSpan.FromSeconds(60), "the query under way");
            running["querier-1"].Process.Kill();
            running["querier-2"].Process.Kill();
            Assert.Equal(expected, await frozen.WaitAsync(TimeSpan.FromSeconds(120)));
            Assert.True(await Metric(router.Http, "query_shards_total{result=\"local_retry\"}") > retriedBefore,
                "the killed queriers' shards were not read again");

            // Past the query rate limit: 429 with Retry-After, for that org only.
            var floods = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => Query(router.Http, "SELECT 1", org: "flood")));
            var limited = floods.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(limited);
            Assert.All(limited, r => Assert.True(r.Headers.RetryAfter is not null, "429 without Retry-After"));
            foreach (var r in floods) r.Dispose();

            // A stopped node leaves the registry after peer_timeout_secs and cluster_nodes after the sweep window.
            running["compactor-1"].Process.Stop();
            await Poll.UntilAsync(() => Nodes(router.Http), v => !Ids(v).Contains("compactor-1"), TimeSpan.FromSeconds(30), "compactor-1 left the registry");
            await Poll.UntilAsync(async () => Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM cluster_nodes WHERE node_id = 'compactor-1'")),
                n => n == 0, TimeSpan.FromSeconds(30), "compactor-1 swept from cluster_nodes");
        }
        finally
        {
            foreach (var node in running.Values) node.Dispose();
            foreach (var (_, dir) in nodes.Values) dir.Dispose();
        }
    }

    private static async Task<JsonElement> Nodes(HttpClient http) => await http.GetFromJsonAsync<JsonElement>("/api/v1/cluster/nodes");

    private static string[] Ids(JsonElement view) => view.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node_id").GetString()!).ToArray();

    private static async Task<HttpResponseMessage> Query(HttpClient http, string sql, string org = "default")
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query") { Content = JsonContent.Create(new { sql, limit = 0 }) };
        req.Headers.Add("X-Org-Id", org);
        return await http.SendAsync(req);
    }

    private static async Task<JsonElement> Rows(HttpClient http, string sql)
    {
        using var resp = await Query(http, sql);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == HttpStatusCode.OK, $"{sql}: {(int)resp.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("rows").Clone();
    }

    private static async Task<long> Count(HttpClient http, string stream) =>
        (await Rows(http, $"SELECT count(*) FROM {stream} WHERE level IS NOT NULL OR level IS NULL"))[0][0].GetInt64();

    private static async Task<Dictionary<string, long>> BatchCounts(HttpClient http, string stream) =>
        (await Rows(http, $"SELECT batch, count(*) FROM {stream} GROUP BY batch")).EnumerateArray()
            .ToDictionary(r => r[0].GetString()!, r => r[1].GetInt64());

    private static Task<double> Metric(HttpClient http, string series) => NodeMetrics.ValueAsync(http, series);
}
