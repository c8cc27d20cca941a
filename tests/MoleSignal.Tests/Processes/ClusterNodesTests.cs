using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

[Collection(ProcessCollection.Name)]
public sealed class ClusterNodesTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    private static async Task<JsonElement> NodesAsync(HttpClient http, string? role = null) =>
        await http.GetFromJsonAsync<JsonElement>("/api/v1/cluster/nodes" + (role is null ? "" : "?role=" + role));

    private static string[] Ids(JsonElement view) => view.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node_id").GetString()!).Order().ToArray();

    [Fact]
    public async Task Nodes_heartbeat_into_cluster_nodes_leave_the_registry_after_the_timeout_and_the_table_after_the_sweep()
    {
        var db = await pg.CreateDatabaseAsync();
        Dictionary<string, string> Env(string id, string roles) => new()
        {
            ["MS_STORE.META.BACKEND"] = "postgres",
            ["MS_STORE.META.DSN"] = pg.Dsn(db),
            ["MS_NODE.ID"] = id,
            ["MS_NODE.ROLES"] = roles,
            ["MS_CLUSTER.HEARTBEAT_INTERVAL_SECS"] = "1",
            ["MS_CLUSTER.PEER_TIMEOUT_SECS"] = "3",
            ["MS_CLUSTER.SWEEP_AFTER_SECS"] = "6",
            ["MS_CLUSTER.SWEEP_INTERVAL_SECS"] = "1",
        };
        using var a = MoleSignalNode.Start(Env("node-a", "ingester,querier"));
        await a.WaitHealthyAsync();
        await using var meta = MoleSignal.Grains.Metadata.MetaStore.Postgres(pg.Dsn(db), 2);
        using (var b = MoleSignalNode.Start(Env("node-b", "router")))
        {
            await b.WaitHealthyAsync();
            var view = await Poll.UntilAsync(() => NodesAsync(a.Http), v => Ids(v).Length == 2, TimeSpan.FromSeconds(30), "both nodes live");
            Assert.Equal("cluster", view.GetProperty("mode").GetString());
            var roles = view.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node_id").GetString()!,
                n => n.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
            Assert.Equal(["ingester", "querier"], roles["node-a"]);
            Assert.Equal(["router"], roles["node-b"]);
            Assert.Equal(["node-b"], Ids(await NodesAsync(a.Http, "router")));
            Assert.Equal(["node-a"], Ids(await NodesAsync(b.Http, "querier")));
            // One Orleans cluster through the Postgres membership table, not two one-silo clusters.
            var silos = await Poll.UntilAsync(() => NodesAsync(b.Http),
                v => v.GetProperty("orleans").GetArrayLength() == 2, TimeSpan.FromSeconds(30), "both silos in Orleans membership");
            Assert.Equal(["node-a", "node-b"], silos.GetProperty("orleans").EnumerateArray().Select(h => h.GetProperty("name").GetString()!).Order().ToArray());
            Assert.Equal(2L, Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM OrleansMembershipTable WHERE Status = 3")));
            b.Process.Kill();
        }
        await Poll.UntilAsync(() => NodesAsync(a.Http), v => Ids(v).SequenceEqual(["node-a"]), TimeSpan.FromSeconds(30), "node-b left the registry");
        Assert.Equal(1L, Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM cluster_nodes WHERE node_id = 'node-b'")));
        await Poll.UntilAsync(async () => Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM cluster_nodes WHERE node_id = 'node-b'")),
            n => n == 0, TimeSpan.FromSeconds(30), "node-b swept from the table");
    }

    [Fact]
    public async Task A_standalone_node_lists_only_itself_and_never_touches_cluster_nodes()
    {
        var db = await pg.CreateDatabaseAsync();
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_STORE.META.BACKEND"] = "postgres",
            ["MS_STORE.META.DSN"] = pg.Dsn(db),
            ["MS_NODE.ID"] = "solo",
            ["MS_CLUSTER.HEARTBEAT_INTERVAL_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        var view = await NodesAsync(node.Http);
        Assert.Equal("standalone", view.GetProperty("mode").GetString());
        Assert.Equal(["solo"], Ids(view));
        await using var meta = MoleSignal.Grains.Metadata.MetaStore.Postgres(pg.Dsn(db), 2);
        Assert.Equal(0L, Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM cluster_nodes")));
    }

    [Fact]
    public async Task Past_the_org_rate_limit_requests_get_429_with_retry_after_and_other_orgs_are_unaffected()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_ROUTER.RATE_LIMIT.INGEST_QPS"] = "3",
            ["MS_ROUTER.RATE_LIMIT.QUERY_QPS"] = "0",
        });
        await node.WaitHealthyAsync();
        async Task<HttpResponseMessage> Ingest(string org)
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ingest/app") { Content = new StringContent("{\"m\":1}") };
            req.Headers.Add("X-Org-Id", org);
            return await node.Http.SendAsync(req);
        }
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10; i++)
        {
            var resp = await Ingest("busy");
            statuses.Add(resp.StatusCode);
            if (resp.StatusCode == HttpStatusCode.TooManyRequests) limited ??= resp;
        }
        Assert.NotNull(limited);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 3);
        Assert.True(limited!.Headers.RetryAfter?.Delta?.TotalSeconds >= 1);
        var body = await limited.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("rate_limited", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Ingest("calm")).StatusCode);
        // query_qps = 0: unlimited.
        for (var i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.OK, (await node.Http.PostAsJsonAsync("/api/v1/query", new { sql = "SELECT 1" })).StatusCode);
    }
}
