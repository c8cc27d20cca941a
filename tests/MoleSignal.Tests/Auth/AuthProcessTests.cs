using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Auth;

/// <summary>Roles, API tokens, JWTs, login throttling and secrecy of credentials, on the real binary.</summary>
[Collection(ProcessCollection.Name)]
public sealed class AuthProcessTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    private static StringContent Record => Json("{\"msg\":\"hello\"}");

    private static StringContent Sql(string sql) => Json(JsonSerializer.Serialize(new { sql }));

    private async Task<Dictionary<string, string>> EnvAsync(string backend)
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        if (backend == "postgres")
        {
            env["MS_STORE.META.BACKEND"] = "postgres";
            env["MS_STORE.META.DSN"] = pg.Dsn(await pg.CreateDatabaseAsync());
        }
        return env;
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Each_role_does_what_it_allows_and_nothing_else(string backend)
    {
        using var node = MoleSignalNode.Start(await EnvAsync(backend));
        await node.WaitHealthyAsync();
        using var anon = AuthApi.Anonymous(node);
        await AuthApi.CreateOrgAsync(node.Http, "acme");
        foreach (var role in new[] { "admin", "editor", "viewer" })
            await AuthApi.AddMemberAsync(node.Http, "acme", $"{role}@acme.io", role, $"{role}-password");
        var (_, ingester) = await AuthApi.ServiceTokenAsync(node.Http, "acme", "ingester");
        var admin = MoleSignalNode.Basic("admin@acme.io", "admin-password");
        var editor = MoleSignalNode.Basic("editor@acme.io", "editor-password");
        var viewer = MoleSignalNode.Basic("viewer@acme.io", "viewer-password");
        var shipper = MoleSignalNode.Basic("fluent-bit", ingester);

        // ingest: ingester and editor yes, viewer no
        Assert.Equal(HttpStatusCode.OK,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/app", shipper, "acme", Record));
        Assert.Equal(HttpStatusCode.OK,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/app", editor, "acme", Record));
        Assert.Equal(HttpStatusCode.Forbidden,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/app", viewer, "acme", Record));
        // query: viewer yes, the ingester token no
        Assert.Equal(HttpStatusCode.OK,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/query", viewer, "acme", Sql("SELECT 1")));
        Assert.Equal(HttpStatusCode.Forbidden,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/query", shipper, "acme", Sql("SELECT 1")));
        // members: admin yes, editor no
        var member = Json("{\"email\":\"new@acme.io\",\"role\":\"viewer\",\"password\":\"new-password\"}");
        Assert.Equal(HttpStatusCode.Forbidden,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/orgs/acme/members", editor, content: member));
        Assert.Equal(HttpStatusCode.Created,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/orgs/acme/members", admin,
            content: Json("{\"email\":\"new@acme.io\",\"role\":\"viewer\",\"password\":\"new-password\"}")));
        // orgs: only root creates them
        Assert.Equal(HttpStatusCode.Forbidden,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/orgs", admin, content: Json("{\"org\":\"x\"}")));
        // another org's data: not even the admin of acme
        Assert.Equal(HttpStatusCode.Forbidden,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/query", admin, "default", Sql("SELECT 1")));

        // what each sees of itself
        var me = await AuthApi.SendAsync(anon, HttpMethod.Get, "/api/v1/auth/me", auth: viewer);
        Assert.Equal("viewer@acme.io", me.GetProperty("email").GetString());
        Assert.Equal("viewer", me.GetProperty("orgs")[0].GetProperty("role").GetString());
        // the editor's two records are there, for the viewer to read
        var rows = await AuthApi.SendAsync(anon, HttpMethod.Post, "/api/v1/query",
            new { sql = "SELECT count(*) AS n FROM app" }, viewer, "acme");
        Assert.Equal(2, rows.GetProperty("rows")[0][0].GetInt64());
    }

    [Fact]
    public async Task A_token_is_shown_once_serves_from_the_cache_and_an_expired_or_revoked_one_is_refused()
    {
        var env = await EnvAsync("sqlite");
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        using var anon = AuthApi.Anonymous(node);
        var (id, token) = await AuthApi.ServiceTokenAsync(node.Http, "default", "ingester");
        Assert.Matches("^ms_[0-9a-f]{12}_[0-9a-f]{40}$", token);
        var list = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/tokens");
        Assert.Contains(id, list.GetRawText());
        Assert.DoesNotContain(token[16..], list.GetRawText());

        var bearer = AuthApi.Bearer(token);
        for (var i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.OK,
                await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/t", bearer, content: Record));
        // a wrong secret under a real prefix is refused
        var forged = AuthApi.Bearer(token[..16] + new string('f', 40));
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/t", forged, content: Record));

        await AuthApi.SendAsync(node.Http, HttpMethod.Delete, $"/api/v1/tokens/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/t", bearer, content: Record));

        var (_, shortLived) = await AuthApi.ServiceTokenAsync(node.Http, "default", "ingester", expiresInSecs: 1);
        await Poll.UntilAsync(() => AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/t",
            AuthApi.Bearer(shortLived), content: Record),
            s => s == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(30), "the expired token refused");
        Assert.DoesNotContain(token[16..], node.Process.Output);
    }

    [Fact]
    public async Task A_revocation_reaches_every_node_of_a_two_node_cluster_within_the_cache_ttl()
    {
        var db = await pg.CreateDatabaseAsync();
        using var objects = new TempDir("ms-objects");
        Dictionary<string, string> Env(string id)
        {
            var env = MoleSignalNode.DefaultEnv(freePorts: true);
            env["MS_CLUSTER.ADVERTISE_ADDR"] = "127.0.0.1:" + env["MS_GRPC.PORT"];
            env["MS_STORE.META.BACKEND"] = "postgres";
            env["MS_STORE.META.DSN"] = pg.Dsn(db);
            env["MS_STORE.OBJECT.ROOT"] = objects.Path;
            env["MS_NODE.ID"] = id;
            env["MS_NODE.ROLES"] = "router,ingester,querier";
            env["MS_AUTH.TOKEN_CACHE_SECS"] = "3";
            return env;
        }
        using var a = MoleSignalNode.Start(Env("auth-a"));
        using var b = MoleSignalNode.Start(Env("auth-b"));
        await a.WaitHealthyAsync(TimeSpan.FromSeconds(120));
        await b.WaitHealthyAsync(TimeSpan.FromSeconds(120));
        var (id, token) = await AuthApi.ServiceTokenAsync(a.Http, "default", "viewer");
        using var anonA = AuthApi.Anonymous(a);
        using var anonB = AuthApi.Anonymous(b);
        var bearer = AuthApi.Bearer(token);
        Assert.Equal(HttpStatusCode.OK, await AuthApi.StatusAsync(anonA, HttpMethod.Get, "/api/v1/streams", bearer));
        Assert.Equal(HttpStatusCode.OK, await AuthApi.StatusAsync(anonB, HttpMethod.Get, "/api/v1/streams", bearer));

        await AuthApi.SendAsync(a.Http, HttpMethod.Delete, $"/api/v1/tokens/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anonA, HttpMethod.Get, "/api/v1/streams", bearer));
        await Poll.UntilAsync(() => AuthApi.StatusAsync(anonB, HttpMethod.Get, "/api/v1/streams", bearer),
            s => s == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(30), "node b refusing the revoked token");
    }

    [Fact]
    public async Task A_jwt_with_a_tampered_signature_alg_none_past_its_expiry_or_before_a_password_change_is_refused()
    {
        var env = await EnvAsync("sqlite");
        env["MS_AUTH.JWT_TTL_SECS"] = "2";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        using var anon = AuthApi.Anonymous(node);
        await AuthApi.AddMemberAsync(node.Http, "default", "dev@corp.io", "viewer", "first-password");
        var jwt = await AuthApi.LoginAsync(anon, "dev@corp.io", "first-password");
        Assert.Equal(HttpStatusCode.OK,
            await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", AuthApi.Bearer(jwt)));

        var parts = jwt.Split('.');
        var sig = parts[2].ToCharArray();
        sig[5] = sig[5] == 'A' ? 'B' : 'A';
        var tampered = $"{parts[0]}.{parts[1]}.{new string(sig)}";
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", AuthApi.Bearer(tampered)));
        var none = B64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + ".";
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", AuthApi.Bearer(none)));
        await Poll.UntilAsync(() => AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", AuthApi.Bearer(jwt)),
            s => s == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(30), "the expired JWT refused");

        var fresh = await AuthApi.LoginAsync(anon, "dev@corp.io", "first-password");
        var bearer = AuthApi.Bearer(fresh);
        Assert.Equal(HttpStatusCode.OK, await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", bearer));
        await AuthApi.SendAsync(anon, HttpMethod.Post, "/api/v1/auth/password",
            new { current_password = "first-password", new_password = "second-password" }, bearer);
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", bearer));
        Assert.Equal(HttpStatusCode.Unauthorized, await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams",
            MoleSignalNode.Basic("dev@corp.io", "first-password")));
        Assert.Equal(HttpStatusCode.OK, await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams",
            MoleSignalNode.Basic("dev@corp.io", "second-password")));
    }

    [Fact]
    public async Task A_session_token_refreshes_into_a_working_one_and_no_other_credential_refreshes()
    {
        using var node = MoleSignalNode.Start(await EnvAsync("sqlite"));
        await node.WaitHealthyAsync();
        using var anon = AuthApi.Anonymous(node);
        await AuthApi.AddMemberAsync(node.Http, "default", "keep@corp.io", "viewer", "keep-password");
        var login = await AuthApi.SendAsync(anon, HttpMethod.Post, "/api/v1/auth/login",
            new { email = "keep@corp.io", password = "keep-password" });
        var jwt = login.GetProperty("token").GetString()!;

        var renewed = await AuthApi.SendAsync(anon, HttpMethod.Post, "/api/v1/auth/refresh", auth: AuthApi.Bearer(jwt));
        var token = renewed.GetProperty("token").GetString()!;
        Assert.True(renewed.GetProperty("expires_at").GetInt64() >= login.GetProperty("expires_at").GetInt64());
        Assert.Equal(HttpStatusCode.OK,
            await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams", AuthApi.Bearer(token)));

        var (_, service) = await AuthApi.ServiceTokenAsync(node.Http, "default", "viewer");
        Assert.Equal(HttpStatusCode.Unauthorized,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/auth/refresh", null));
        Assert.Equal(HttpStatusCode.Forbidden, await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/auth/refresh",
            MoleSignalNode.Basic("keep@corp.io", "keep-password")));
        Assert.Equal(HttpStatusCode.Forbidden,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/auth/refresh", AuthApi.Bearer(service)));

        // A password change ends the session: neither token works or refreshes.
        await AuthApi.SendAsync(anon, HttpMethod.Post, "/api/v1/auth/password",
            new { current_password = "keep-password", new_password = "kept-password" }, AuthApi.Bearer(token));
        foreach (var old in new[] { jwt, token })
            Assert.Equal(HttpStatusCode.Unauthorized,
                await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/auth/refresh", AuthApi.Bearer(old)));
    }

    [Fact]
    public async Task Failed_logins_are_throttled_audited_and_no_secret_reaches_the_log_config_or_audit()
    {
        var env = await EnvAsync("sqlite");
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        using var anon = AuthApi.Anonymous(node);
        await AuthApi.AddMemberAsync(node.Http, "default", "guess@corp.io", "viewer", "guess-password");
        HttpStatusCode last = 0;
        for (var i = 0; i < 6 && last != HttpStatusCode.TooManyRequests; i++)
        {
            using var resp = await anon.PostAsJsonAsync("/api/v1/auth/login",
                new { email = "guess@corp.io", password = "wrong-" + i });
            last = resp.StatusCode;
            if (last == HttpStatusCode.TooManyRequests) Assert.True(resp.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        // the right password is throttled too, on the API's Basic as on login: that is what stops guessing
        Assert.Equal(HttpStatusCode.TooManyRequests, await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/streams",
            MoleSignalNode.Basic("guess@corp.io", "guess-password")));

        var (_, token) = await AuthApi.ServiceTokenAsync(node.Http, "default", "ingester");
        await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/secrets",
            new { name = "hook", value = "hook-secret-value" },
            expect: HttpStatusCode.Created);
        var audit = await Poll.UntilAsync(() => AuthApi.SendAsync(node.Http, HttpMethod.Get,
            "/api/v1/audit?limit=1000"),
            a => a.GetRawText().Contains("secret_create"), TimeSpan.FromSeconds(30), "the audit rows written");
        var text = audit.GetRawText();
        Assert.Contains("\"action\":\"login\"", text);
        Assert.Contains("\"result\":\"unauthorized\"", text);
        Assert.Contains("token_create", text);
        foreach (var secret in new[] { MoleSignalNode.RootPassword, token[16..], "hook-secret-value", "wrong-0" })
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(secret, node.Process.Output);
        }
        var (code, printed) = await MoleSignalNode.RunToExitAsync(env, ["--print-config"]);
        Assert.Equal(0, code);
        Assert.DoesNotContain(MoleSignalNode.RootPassword, printed);
        Assert.Contains("MS_ROOT_USER_PASSWORD = \"***\"", printed);
    }

    [Fact]
    public async Task Without_root_variables_the_first_start_writes_a_random_password_once_with_mode_0600()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_ROOT_USER_EMAIL"] = ""; // empty: unset
        env["MS_ROOT_USER_PASSWORD"] = "";
        using var dir = new TempDir("ms-boot");
        string password;
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            var file = Path.Combine(dir.Path, "data", "initial_root_password");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var line = File.ReadAllText(file).Trim();
            Assert.StartsWith("root@localhost:", line);
            password = line["root@localhost:".Length..];
            Assert.Contains(password, node.Process.Output);
            using var anon = AuthApi.Anonymous(node);
            Assert.Equal(HttpStatusCode.OK, await AuthApi.StatusAsync(anon, HttpMethod.Get, "/api/v1/auth/me",
                MoleSignalNode.Basic("root@localhost", password)));
            node.Process.Stop();
        }
        using var again = MoleSignalNode.Start(env, workDir: dir.Path);
        await again.WaitHealthyAsync();
        Assert.DoesNotContain(password, again.Process.Output);
    }

    [Fact]
    public async Task Auth_off_is_refused_on_a_public_bind_and_runs_a_loopback_sandbox_that_says_so()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_AUTH.ENABLED"] = "false";
        env["MS_HTTP.BIND"] = "0.0.0.0";
        var (code, output) = await MoleSignalNode.RunToExitAsync(env);
        Assert.Equal(2, code);
        Assert.Contains("auth.enabled", output);

        env["MS_HTTP.BIND"] = "127.0.0.1";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        await node.Process.WaitForLineAsync(l => l.Contains("auth is OFF"), TimeSpan.FromSeconds(30),
            "the auth-off warning");
        using var anon = AuthApi.Anonymous(node);
        Assert.Equal(HttpStatusCode.OK,
            await AuthApi.StatusAsync(anon, HttpMethod.Post, "/api/v1/ingest/sandbox", null, content: Record));
    }

    private static string B64Url(string s)
        => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
