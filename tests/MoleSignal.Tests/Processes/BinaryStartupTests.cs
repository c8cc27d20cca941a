using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "process";
}

/// <summary>The real binary, started as a user would start it.</summary>
[Collection(ProcessCollection.Name)]
public sealed class BinaryStartupTests
{
    [Fact]
    public async Task Without_a_config_it_serves_http_5080_and_grpc_5082_with_sqlite_and_local_disk()
    {
        using var node = MoleSignalNode.Start(freePorts: false);
        await node.WaitHealthyAsync();
        Assert.Equal(5080, node.HttpPort);
        using (var tcp = new TcpClient())
            await tcp.ConnectAsync(IPAddress.Loopback, 5082);
        Assert.True(File.Exists(Path.Combine(node.WorkDir, "data", "meta.db")));
        Assert.True(Directory.Exists(Path.Combine(node.WorkDir, "data", "objects")));
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/readyz"));
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/api/v1/healthz"));
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/api/v1/readyz"));
    }

    [Fact]
    public async Task MS_HTTP_PORT_moves_the_http_listener()
    {
        var port = Ports.Free();
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_HTTP.PORT"] = port.ToString() });
        await node.WaitHealthyAsync();
        Assert.Equal(port, node.HttpPort);
        Assert.Contains($"http 127.0.0.1:{port}", node.Process.Output);
    }

    [Fact]
    public async Task A_misspelt_key_fails_startup_naming_the_key()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("config.toml"), "[http]\nprot = 5090\n");
        var (code, output) = await MoleSignalNode.RunToExitAsync(args: ["--config", dir.Combine("config.toml")], workDir: dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("unknown config key 'http.prot'", output);
    }

    [Fact]
    public async Task A_bad_role_in_env_fails_startup_naming_the_key()
    {
        var (code, output) = await MoleSignalNode.RunToExitAsync(new Dictionary<string, string> { ["MS_NODE.ROLES"] = "ingester,qurier" });
        Assert.Equal(2, code);
        Assert.Contains("'node.roles'", output);
        Assert.Contains("qurier", output);
    }

    [Fact]
    public async Task Print_config_shows_the_effective_config_with_secrets_redacted()
    {
        var (code, output) = await MoleSignalNode.RunToExitAsync(new Dictionary<string, string>
        {
            ["MS_STORE.META.BACKEND"] = "postgres",
            ["MS_STORE.META.DSN"] = "postgres://mole:hunter2@db:5432/meta",
            ["MS_STORE.OBJECT.S3.SECRET_ACCESS_KEY"] = "s3cr3t",
            ["MS_CIPHER_KEY"] = "cipher-value",
            ["MS_NODE.ROLES"] = "router,querier",
        }, ["--print-config"]);
        Assert.Equal(0, code);
        Assert.Contains("dsn = \"postgres://mole:***@db:5432/meta\"", output);
        Assert.Contains("roles = [\"router\", \"querier\"]", output);
        Assert.Contains("[store.object.s3]", output);
        Assert.DoesNotContain("hunter2", output);
        Assert.DoesNotContain("s3cr3t", output);
        Assert.DoesNotContain("cipher-value", output);
        Assert.Contains("MS_CIPHER_KEY = \"***\"", output);
    }

    [Fact]
    public async Task A_failing_object_store_startup_probe_stops_the_process()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("not-a-dir"), "x");
        var (code, output) = await MoleSignalNode.RunToExitAsync(
            new Dictionary<string, string> { ["MS_STORE.OBJECT.ROOT"] = dir.Combine("not-a-dir", "objects") }, workDir: dir.Path);
        Assert.NotEqual(0, code);
        Assert.Contains("object store", output);
    }

    [Fact]
    public async Task A_generated_node_id_is_kept_across_restarts()
    {
        using var dir = new TempDir();
        string first;
        using (var node = MoleSignalNode.Start(workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            first = File.ReadAllText(dir.Combine("data", "node_id")).Trim();
            Assert.Contains($"node {first}", node.Process.Output);
        }
        using (var node = MoleSignalNode.Start(workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            Assert.Contains($"node {first}", node.Process.Output);
        }
    }

    [Fact]
    public async Task Healthz_turns_503_after_three_failed_probes_while_readyz_stays_200_and_recovers()
    {
        using var dir = new TempDir();
        var root = dir.Combine("objects");
        File.WriteAllText(dir.Combine("config.toml"), $"[store.object]\nroot = \"{root}\"\nhealth_probe_interval_secs = 1\n");
        using var node = MoleSignalNode.Start(args: ["--config", dir.Combine("config.toml")], workDir: dir.Path);
        await node.WaitHealthyAsync();

        // Make the store unusable: its root becomes a plain file, so every PUT fails.
        Directory.Delete(root, recursive: true);
        File.WriteAllText(root, "blocked");
        var body = await Poll.UntilAsync(async () =>
        {
            using var r = await node.Http.GetAsync("/healthz");
            return (r.StatusCode, Body: await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), "healthz 503");
        using (var doc = JsonDocument.Parse(body.Body))
        {
            Assert.True(doc.RootElement.GetProperty("object_store_degraded").GetBoolean());
            Assert.Contains("object store degraded", doc.RootElement.GetProperty("reasons")[0].GetString());
        }
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/readyz"));
        var metrics = await node.Http.GetStringAsync("/metrics");
        Assert.Contains("object_store_probe_degraded 1", metrics);
        Assert.Matches("object_store_errors_total\\{backend=\"local\",op=\"put\"\\} [1-9]", metrics);

        File.Delete(root);
        await node.WaitHealthyAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Metrics_expose_the_object_store_series()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var metrics = await node.Http.GetStringAsync("/metrics");
        foreach (var name in new[] { "object_store_operations_total", "object_store_op_duration_seconds", "object_store_probe_degraded" })
            Assert.Contains(name, metrics);
    }

    [Fact]
    public async Task Metrics_can_be_disabled()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_TELEMETRY.METRICS_ENABLED"] = "false" });
        await node.WaitHealthyAsync();
        using var r = await node.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("not_found", doc.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_config_change_applies_mutable_keys_and_warns_for_immutable_ones()
    {
        using var dir = new TempDir();
        var path = dir.Combine("config.toml");
        File.WriteAllText(path, "[router.rate_limit]\ningest_qps = 10\n");
        using var node = MoleSignalNode.Start(args: ["--config", path], workDir: dir.Path);
        await node.WaitHealthyAsync();
        File.WriteAllText(path, "[router.rate_limit]\ningest_qps = 20\n[wal]\ndir = \"./elsewhere\"\n");
        await node.Process.WaitForLineAsync(l => l.Contains("config key 'wal.dir' is immutable"), TimeSpan.FromSeconds(30), "immutable warning");
        await node.Process.WaitForLineAsync(l => l.Contains("config reloaded"), TimeSpan.FromSeconds(30), "reload");
        File.WriteAllText(path, "[router.rate_limit]\ningest_qps = \"many\"\n");
        await node.Process.WaitForLineAsync(l => l.Contains("config reload rejected") && l.Contains("router.rate_limit.ingest_qps"), TimeSpan.FromSeconds(30), "rejected reload");
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/healthz"));
    }
}

[Collection(ProcessCollection.Name)]
public sealed class BinaryBackendTests(PostgresServer pg, S3Server s3) : IClassFixture<PostgresServer>, IClassFixture<S3Server>
{
    [Fact]
    public async Task Runs_on_postgres_metadata_and_s3_objects()
    {
        var db = await pg.CreateDatabaseAsync();
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_STORE.META.BACKEND"] = "postgres",
            ["MS_STORE.META.DSN"] = pg.Dsn(db),
            ["MS_STORE.OBJECT.BACKEND"] = "s3",
            ["MS_STORE.OBJECT.S3.BUCKET"] = S3Server.Bucket,
            ["MS_STORE.OBJECT.S3.ENDPOINT"] = s3.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
        });
        await node.WaitHealthyAsync();
        await using var meta = MoleSignal.Grains.Metadata.MetaStore.Postgres(pg.Dsn(db), 2);
        Assert.True(Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM schema_migrations")) >= 1);
        Assert.Contains("meta postgres", node.Process.Output);
    }

    [Fact]
    public async Task An_unreachable_postgres_stops_startup_with_a_clear_message()
    {
        var (code, output) = await MoleSignalNode.RunToExitAsync(new Dictionary<string, string>
        {
            ["MS_STORE.META.BACKEND"] = "postgres",
            ["MS_STORE.META.DSN"] = $"postgres://postgres:x@127.0.0.1:{Ports.Free()}/none",
        });
        Assert.Equal(4, code);
        Assert.Contains("metadata store postgres", output);
    }
}
