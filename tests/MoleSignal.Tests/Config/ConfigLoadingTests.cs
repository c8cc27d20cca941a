using System.Collections;
using MoleSignal.Silo.Config;

namespace MoleSignal.Tests.Config;

public sealed class ConfigLoadingTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Toml(string text)
    {
        var path = _dir.Combine("config.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private static Hashtable Env(params (string, string)[] vars)
    {
        var h = new Hashtable();
        foreach (var (k, v) in vars) h[k] = v;
        return h;
    }

    [Fact]
    public void Defaults_are_the_spec_defaults()
    {
        var c = ConfigLoader.Load(null, Env());
        Assert.Equal(["standalone"], c.Node.Roles);
        Assert.Equal("", c.Node.Id);
        Assert.Equal("127.0.0.1:5082", c.Cluster.AdvertiseAddr);
        Assert.Equal(5, c.Cluster.HeartbeatIntervalSecs);
        Assert.Equal(15, c.Cluster.PeerTimeoutSecs);
        Assert.Equal("0.0.0.0", c.Http.Bind);
        Assert.Equal(5080, c.Http.Port);
        Assert.Equal(5082, c.Grpc.Port);
        Assert.Equal(32, c.Grpc.MaxMessageSizeMb);
        Assert.Equal(80, c.Http.Tls.PlainPort);
        Assert.Equal(443, c.Http.Tls.Port);
        Assert.Equal(60, c.Http.Tls.IssuePollSecs);
        Assert.Equal(21600, c.Http.Tls.RenewalRetrySecs);
        Assert.Equal("sqlite", c.Store.Meta.Backend);
        Assert.Equal(16, c.Store.Meta.MaxConnections);
        Assert.Equal("local", c.Store.Object.Backend);
        Assert.Equal("./data/objects", c.Store.Object.Root);
        Assert.Equal(30, c.Store.Object.HealthProbeIntervalSecs);
        Assert.Equal("./data/wal", c.Wal.Dir);
        Assert.Equal(256, c.Ingester.BufferMaxMb);
        Assert.Equal(30, c.Ingester.FlushIntervalSecs);
        Assert.Equal(4, c.Ingester.FlushParallelism);
        Assert.Equal(1000, c.Ingester.MaxColumns);
        Assert.Equal(1000, c.Router.RateLimit.IngestQps);
        Assert.Equal(50_000_000, c.Querier.AutoAsyncThresholdRows);
        Assert.Equal(2, c.SearchJobs.Workers);
        Assert.Equal(2, c.SearchJobs.IdlePollSecs);
        Assert.Equal(3600, c.SearchJobs.CleanupIntervalSecs);
        Assert.Equal(300, c.Compactor.IntervalSecs);
        Assert.True(c.Storage.FileMetaDump.Enabled);
        Assert.Equal(3600, c.Storage.FileMetaDump.IntervalSecs);
        Assert.Equal(30, c.AlertManager.EvalIntervalSecs);
        Assert.Equal(10, c.AlertManager.DispatchIntervalSecs);
        Assert.True(c.Telemetry.MetricsEnabled);
    }

    [Fact]
    public void Toml_overrides_defaults_and_env_overrides_toml()
    {
        var path = Toml("""
            [http]
            port = 6000
            max_body_mb = 10
            [store.meta]
            backend = "postgres"
            dsn = "postgres://a:b@db:5432/x"
            [node]
            roles = ["ingester", "querier"]
            """);
        var fromToml = ConfigLoader.Load(path, Env());
        Assert.Equal(6000, fromToml.Http.Port);
        Assert.Equal(10, fromToml.Http.MaxBodyMb);
        Assert.Equal("postgres://a:b@db:5432/x", fromToml.Store.Meta.Dsn);
        Assert.Equal(["ingester", "querier"], fromToml.Node.Roles);

        var withEnv = ConfigLoader.Load(path, Env(("MS_HTTP.PORT", "5090"), ("MS_STORE.META.DSN", "Host=h;Database=d"), ("MS_NODE.ROLES", "router")));
        Assert.Equal(5090, withEnv.Http.Port);
        Assert.Equal(10, withEnv.Http.MaxBodyMb);
        Assert.Equal("Host=h;Database=d", withEnv.Store.Meta.Dsn);
        // The env array replaces the TOML array whole, it does not merge by index.
        Assert.Equal(["router"], withEnv.Node.Roles);
    }

    [Fact]
    public void Env_arrays_are_comma_separated()
    {
        var c = ConfigLoader.Load(null, Env(("MS_NODE.ROLES", "ingester, querier ,compactor")));
        Assert.Equal(["ingester", "querier", "compactor"], c.Node.Roles);
    }

    [Fact]
    public void Env_keys_are_case_insensitive_after_the_prefix_and_other_variables_are_ignored()
    {
        var c = ConfigLoader.Load(null, Env(("MS_wal.FLUSH_STRATEGY", "none"), ("MS_CIPHER_KEY", "k"), ("HTTP.PORT", "1"), ("PATH", "/bin")));
        Assert.Equal("none", c.Wal.FlushStrategy);
        Assert.Equal("k", c.Secrets.CipherKey);
        Assert.Equal(5080, c.Http.Port);
    }

    [Fact]
    public void Flat_secrets_are_read_directly()
    {
        var c = ConfigLoader.Load(null, Env(("MS_CIPHER_KEY", "c"), ("MS_AUTH_JWT_SECRET_OVERRIDE", "j"), ("MS_LICENSE_FILE", "/l")));
        Assert.Equal("c", c.Secrets.CipherKey);
        Assert.Equal("j", c.Secrets.JwtSecretOverride);
        Assert.Equal("/l", c.Secrets.LicenseFile);
    }

    [Theory]
    [InlineData("[http]\nprot = 1\n", "http.prot", "http.port")]
    [InlineData("[htp]\nport = 1\n", "htp.port", "http.port")]
    [InlineData("[store.meta]\ndns = \"x\"\n", "store.meta.dsn")]
    [InlineData("colour = 1\n", "colour")]
    public void Unknown_toml_key_fails_naming_it(string toml, string key, string? suggestion = null)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Toml(toml), Env()));
        Assert.Contains($"'{key}'", e.Message);
        if (suggestion is not null) Assert.Contains(suggestion, e.Message);
    }

    [Fact]
    public void Unknown_env_key_fails_naming_it()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, Env(("MS_HTTP.PORTT", "1"))));
        Assert.Contains("'http.portt'", e.Message);
    }

    [Theory]
    [InlineData("[http]\nport = \"abc\"\n", "http.port")]
    [InlineData("[http]\nport = 70000\n", "http.port")]
    [InlineData("[telemetry]\nmetrics_enabled = \"maybe\"\n", "telemetry.metrics_enabled")]
    [InlineData("[wal]\nflush_strategy = \"sometimes\"\n", "wal.flush_strategy")]
    [InlineData("[wal]\nsync_level = \"disk\"\n", "wal.sync_level")]
    [InlineData("[store.meta]\nbackend = \"mysql\"\n", "store.meta.backend")]
    [InlineData("[store.meta]\nbackend = \"postgres\"\n", "store.meta.dsn")]
    [InlineData("[store.object]\nbackend = \"s3\"\n", "store.object.s3.bucket")]
    [InlineData("[ingester]\nflush_parallelism = 0\n", "ingester.flush_parallelism")]
    [InlineData("[node]\nroles = []\n", "node.roles")]
    [InlineData("[node]\nroles = [\"ingester\", \"alertmanager\"]\n", "node.roles")]
    [InlineData("[grpc]\nport = 5080\n", "grpc.port")]
    public void Bad_value_fails_naming_the_key(string toml, string key)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Toml(toml), Env()));
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void Bad_env_value_fails_naming_the_key()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, Env(("MS_HTTP.PORT", "eighty"))));
        Assert.Contains("'http.port'", e.Message);
    }

    [Fact]
    public void Invalid_toml_fails_with_the_file_name()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Toml("[http\nport = 1\n"), Env()));
        Assert.Contains("config.toml", e.Message);
    }

    [Fact]
    public void Missing_config_file_fails()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(_dir.Combine("nope.toml"), Env()));
        Assert.Contains("nope.toml", e.Message);
    }

    [Theory]
    [InlineData("standalone")]
    [InlineData("router")]
    [InlineData("ingester")]
    [InlineData("querier")]
    [InlineData("compactor")]
    [InlineData("alert_manager")]
    public void Each_role_parses(string role)
    {
        var c = ConfigLoader.Load(Toml($"[node]\nroles = [\"{role}\"]\n"), Env());
        Assert.Equal([role], c.Node.Roles);
        var roles = new MoleSignal.Silo.Roles.RoleSet(c.Node.Roles);
        Assert.True(roles.Runs(role));
    }

    [Fact]
    public void Multiple_roles_all_take_effect_and_standalone_runs_every_role()
    {
        var roles = new MoleSignal.Silo.Roles.RoleSet(["ingester", "compactor"]);
        Assert.True(roles.Runs("ingester"));
        Assert.True(roles.Runs("compactor"));
        Assert.False(roles.Runs("querier"));
        var standalone = new MoleSignal.Silo.Roles.RoleSet(["standalone"]);
        Assert.All(ConfigValidator.Roles, r => Assert.True(standalone.Runs(r)));
    }

    [Fact]
    public void The_example_config_documents_every_key_with_its_default()
    {
        var example = Path.Combine(S3Server.ScriptDir(), "..", "..", "conf", "config.toml");
        var fromExample = ConfigLoader.Load(example, Env());
        var defaults = ConfigLoader.Load(null, Env());
        var text = File.ReadAllText(example);
        foreach (var key in ConfigSchema.Keys.Values)
        {
            var name = key.Path[(key.Path.LastIndexOf('.') + 1)..];
            var section = key.Path[..key.Path.LastIndexOf('.')];
            Assert.Contains($"[{section}]", text);
            Assert.Matches($"(?m)^#? ?{name} = ", text);
            var a = key.GetValue(fromExample);
            var b = key.GetValue(defaults);
            Assert.True(a is Array x && b is Array y ? x.Cast<object>().SequenceEqual(y.Cast<object>()) : Equals(a, b), $"{key.Path}: example {a} != default {b}");
        }
    }

    public void Dispose() => _dir.Dispose();
}
