using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Federation;

/// <summary>
/// Three independent clusters: the coordinator ("local", standalone, licensed), "b" (standalone) and "c", a
/// multi-process cluster on a private Postgres (router, ingester, two queriers), whose router answers the Scan
/// by a distributed query over its queriers.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FederationClusterProcessTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Three_clusters_one_on_postgres_with_queriers_answer_as_one_duckdb_over_all_records()
    {
        using var dir = new TempDir("ms-federation-3");
        using var issuer = new TestLicense();
        var db = await pg.CreateDatabaseAsync();
        var nodes = new List<MoleSignalNode>();
        try
        {
            var c = new Dictionary<string, MoleSignalNode>();
            var cGrpc = 0;
            foreach (var (id, roles) in new[]
                     {
                         ("router", "router"), ("ingester", "ingester"), ("querier-1", "querier"),
                         ("querier-2", "querier"),
                     })
            {
                var env = MoleSignalNode.ClusterEnv(id, roles, pg.Dsn(db));
                env["MS_STORE.OBJECT.ROOT"] = dir.Combine("c-objects");
                env["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "1"; // files, so the queriers have shards to scan
                Directory.CreateDirectory(dir.Combine(id));
                nodes.Add(c[id] = MoleSignalNode.Start(env, workDir: dir.Combine(id)));
                if (id == "router") cGrpc = int.Parse(env["MS_GRPC.PORT"]);
            }
            foreach (var n in c.Values) await n.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            await Poll.UntilAsync(() => c["router"].Http.GetFromJsonAsync<JsonElement>("/api/v1/cluster/nodes"),
                v => v.GetProperty("orleans").GetArrayLength() == 4 && v.GetProperty("nodes").GetArrayLength() == 4,
                TimeSpan.FromSeconds(60), "four silos and nodes");
            var (_, cToken) = await AuthApi.ServiceTokenAsync(c["router"].Http, "default", "viewer");

            var bEnv = MoleSignalNode.DefaultEnv(freePorts: true);
            Directory.CreateDirectory(dir.Combine("b"));
            var b = MoleSignalNode.Start(bEnv, workDir: dir.Combine("b"));
            nodes.Add(b);
            await b.WaitHealthyAsync();
            var (_, bToken) = await AuthApi.ServiceTokenAsync(b.Http, "default", "viewer");

            File.WriteAllText(dir.Combine("license.json"), issuer.Valid(LicenseFeatures.FederatedSearch));
            Directory.CreateDirectory(dir.Combine("local"));
            var local = MoleSignalNode.Start(new Dictionary<string, string>
            {
                ["MS_LICENSE_FILE"] = dir.Combine("license.json"),
                ["MS_LICENSE.TRUSTED_PUBLIC_KEYS"] = issuer.PublicKey,
                ["MS_FEDERATION_B"] = bToken,
                ["MS_FEDERATION_C"] = cToken,
            }, workDir: dir.Combine("local"));
            nodes.Add(local);
            await local.WaitHealthyAsync();

            await FederationData.LoadAsync(local, 5_000, 7, dir.Combine("local.ndjson"));
            await FederationData.LoadAsync(b, 4_000, 8, dir.Combine("b.ndjson"));
            await FederationData.LoadAsync(c["router"], 6_000, 9, dir.Combine("c.ndjson"));
            foreach (var (name, port, token) in new[] { ("b", int.Parse(bEnv["MS_GRPC.PORT"]), "MS_FEDERATION_B"),
                         ("c", cGrpc, "MS_FEDERATION_C") })
                await AuthApi.SendAsync(local.Http, HttpMethod.Post, "/api/v1/remote_clusters", new
                {
                    name, advertise_addr = $"127.0.0.1:{port}", token_secret_ref = $"env:{token}", tls_verify = false,
                }, expect: HttpStatusCode.Created);

            var shardsBefore = await NodeMetrics.ValueAsync(c["router"].Http, "query_shards_total{result=\"remote\"}");
            string[] queries =
            [
                "SELECT _cluster, count(*) FROM web GROUP BY 1 ORDER BY 1",
                "SELECT _cluster, level, count(*) FROM web WHERE level IN ('ERROR', 'WARN') GROUP BY ALL ORDER BY ALL",
                "SELECT service, round(avg(http_duration_ms), 6) FROM web GROUP BY 1 ORDER BY 1",
                "SELECT _timestamp, _cluster, message FROM web ORDER BY _timestamp DESC, message LIMIT 20",
            ];
            foreach (var sql in queries)
            {
                using var resp = await local.Http.PostAsJsonAsync("/api/v1/query?clusters=local,b,c",
                    new { sql, limit = 0 });
                var body = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
                Assert.True(resp.StatusCode == HttpStatusCode.OK, $"{sql}: {body}");
                Assert.Equal(FederationData.Oracle(sql, ("local", dir.Combine("local.ndjson")),
                    ("b", dir.Combine("b.ndjson")), ("c", dir.Combine("c.ndjson"))), FederationData.Rows(body));
                Assert.Equal(["local", "b", "c"], body.GetProperty("federation").GetProperty("scanned_clusters")
                    .EnumerateArray().Select(e => e.GetString()!));
            }
            // c's router answered the scans through its two queriers.
            Assert.True(await NodeMetrics.ValueAsync(c["router"].Http, "query_shards_total{result=\"remote\"}")
                        > shardsBefore, "c's scans did not go distributed");
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }
}
