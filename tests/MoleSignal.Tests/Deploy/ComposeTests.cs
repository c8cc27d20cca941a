using System.Net;
using System.Text;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Deploy;

/// <summary>
/// The Compose files executed, not only parsed: each MoleSignal service's command and environment started as a
/// local process (Debian's PostgreSQL for the postgres service, the S3 test server for MinIO, every port and host
/// name remapped to a free loopback port), then ingest and queries through the router across an ingester kill.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ComposeTests(PostgresServer pg, S3Server s3) : IClassFixture<PostgresServer>, IClassFixture<S3Server>
{
    private static readonly Dictionary<string, string> Vars = new() { ["MS_CIPHER_KEY"] = MoleSignalNode.TestCipherKey };

    private static bool IsMoleSignal(ComposeFile.Service s) => s.Image?.StartsWith("molesignal:", StringComparison.Ordinal) == true;

    [Fact]
    public void Every_service_has_a_pinned_image_a_health_check_and_the_cluster_settings_it_needs()
    {
        var compose = ComposeFile.Load(ComposeFile.RepoFile("deploy", "compose", "docker-compose.yaml"), Vars);
        Assert.All(compose.Services.Values, s => Assert.False(s.Image is null || s.Image.EndsWith(":latest") || !s.Image.Contains(':'),
            $"{s.Name}: image {s.Image} is not pinned"));
        var nodes = compose.Services.Values.Where(IsMoleSignal).ToList();
        Assert.Equal(["alert_manager", "compactor", "ingester", "ingester", "querier", "querier", "router"],
            nodes.Select(n => n.Environment["MS_NODE.ROLES"]).Order());
        foreach (var n in nodes)
        {
            Assert.Equal(["CMD", "molesignal", "healthcheck"], n.Healthcheck);
            Assert.Contains("postgres", n.DependsOn);
            Assert.Equal($"{n.Name}:5082", n.Environment["MS_CLUSTER.ADVERTISE_ADDR"]);
            Assert.Equal("postgres", n.Environment["MS_STORE.META.BACKEND"]);
            Assert.Equal(n.Name, n.Environment["MS_NODE.ID"]);
        }
        Assert.Throws<InvalidOperationException>(() =>
            ComposeFile.Load(ComposeFile.RepoFile("deploy", "compose", "docker-compose.yaml"), new Dictionary<string, string>()));
        var single = ComposeFile.Load(ComposeFile.RepoFile("deploy", "compose", "docker-compose.single.yaml"), Vars);
        Assert.Equal("standalone", single.Services["molesignal"].Environment["MS_NODE.ROLES"]);
    }

    private sealed class Local(ComposeFile.Service service, Dictionary<string, string> env, TempDir dir)
    {
        public ComposeFile.Service Service { get; } = service;
        public Dictionary<string, string> Env { get; } = env;
        public TempDir Dir { get; } = dir;
        public MoleSignalNode? Node { get; set; }
        public void Start() => Node = MoleSignalNode.Start(Env, args: Service.Command.ToArray(), workDir: Dir.Path);
    }

    [Fact]
    public async Task The_cluster_file_runs_ingest_and_queries_through_the_router_across_an_ingester_kill()
    {
        var compose = ComposeFile.Load(ComposeFile.RepoFile("deploy", "compose", "docker-compose.yaml"), Vars);
        var dsn = pg.Dsn(await pg.CreateDatabaseAsync());
        var nodes = compose.Services.Values.Where(IsMoleSignal).ToList();
        var grpcPorts = nodes.ToDictionary(n => n.Name, _ => Ports.Free().ToString());
        var locals = new List<Local>();
        foreach (var n in nodes)
        {
            var dir = new TempDir("ms-compose-" + n.Name);
            var env = new Dictionary<string, string>();
            foreach (var (k, v) in n.Environment)
            {
                var value = v;
                if (value.StartsWith("/data", StringComparison.Ordinal)) value = dir.Path + value["/data".Length..];
                foreach (var (host, port) in grpcPorts) value = value.Replace($"{host}:5082", $"127.0.0.1:{port}");
                env[k] = value;
            }
            env["MS_STORE.META.DSN"] = dsn;
            env["MS_STORE.OBJECT.S3.ENDPOINT"] = s3.Endpoint;
            env["MS_STORE.OBJECT.S3.BUCKET"] = S3Server.Bucket; // the test server's bucket stands for minio-bucket's
            env["AWS_ACCESS_KEY_ID"] = env["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
            foreach (var (k, v) in MoleSignalNode.DefaultEnv(freePorts: true))
                if (k.StartsWith("MS_HTTP.", StringComparison.Ordinal) || k.StartsWith("MS_GRPC.", StringComparison.Ordinal)
                    || k.StartsWith("MS_CLUSTER.", StringComparison.Ordinal))
                    env[k] = v;
            env["MS_GRPC.PORT"] = grpcPorts[n.Name];
            env["MS_CLUSTER.HEARTBEAT_INTERVAL_SECS"] = "1";
            Assert.DoesNotContain(env.Values, v => v.Contains("postgres:5432") || v.Contains("minio:9000"));
            locals.Add(new Local(n, env, dir));
        }
        try
        {
            // One after another, as depends_on conditions would: the S3 test server (unlike MinIO) can lose a probe
            // object when several nodes PUT and DELETE under _health/ at the same instant.
            foreach (var l in locals)
            {
                l.Start();
                await l.Node!.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            }
            var router = locals.Single(l => l.Service.Name == "router");
            using var http = new HttpClient { BaseAddress = router.Node!.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = MoleSignalNode.Basic(router.Env["MS_ROOT_USER_EMAIL"],
                router.Env["MS_ROOT_USER_PASSWORD"]);

            var acked = 0;
            async Task SendAsync(int batch)
            {
                var body = new StringBuilder();
                for (var i = 0; i < 100; i++) body.Append($"{{\"batch\":{batch},\"i\":{i},\"message\":\"compose record {i}\"}}\n");
                await Poll.UntilAsync(async () =>
                {
                    using var resp = await http.PostAsync($"/api/v1/ingest/app{batch % 4}", new StringContent(body.ToString()));
                    return resp.StatusCode;
                }, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(120), $"batch {batch} acknowledged");
                acked += 100;
            }
            for (var b = 0; b < 20; b++) await SendAsync(b);
            var ingester = locals.First(l => l.Service.Name == "ingester-1");
            ingester.Node!.Process.Kill();
            ingester.Node.Dispose();
            for (var b = 20; b < 30; b++) await SendAsync(b);
            ingester.Start();
            await ingester.Node!.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            for (var b = 30; b < 40; b++) await SendAsync(b);

            await Poll.UntilAsync(async () =>
            {
                long total = 0;
                for (var s = 0; s < 4; s++)
                {
                    // A batch retried after the kill may be stored twice; none may be missing.
                    var r = await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/query",
                        new { sql = $"SELECT count(DISTINCT batch * 1000 + i) FROM app{s}" });
                    total += r.GetProperty("rows")[0][0].GetInt64();
                }
                return total;
            }, total => total == acked, TimeSpan.FromSeconds(120), $"all {acked} acknowledged records queryable through the router");
        }
        finally
        {
            foreach (var l in locals)
            {
                l.Node?.Dispose();
                l.Dir.Dispose();
            }
        }
    }
}
