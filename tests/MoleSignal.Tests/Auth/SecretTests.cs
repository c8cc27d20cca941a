using System.Net;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Audit;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Secrets;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Auth;

/// <summary>Stored secrets: sealed at rest, readable after a key rotation, and never under the dev key in a
/// cluster.</summary>
[Collection(ProcessCollection.Name)]
public sealed class SecretTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    private static readonly Principal Root = new("r", "root@x.io", true, new Dictionary<string, OrgRole>(),
        CredentialKind.Password, null);

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task A_secret_is_sealed_at_rest_and_opens_under_the_rotated_key_only()
    {
        using var dir = new TempDir("ms-secrets");
        await using var meta = MetaStore.Sqlite(Path.Combine(dir.Path, "meta.db"));
        await MigrationRunner.ApplyAsync(meta);
        var audit = new AuditLog(meta, TimeProvider.System);
        var keyA = MasterKey.From(NewKey());
        var keyB = MasterKey.From(NewKey());
        var storeA = new SecretStore(meta, keyA, audit, TimeProvider.System);
        var info = await storeA.PutAsync(Root, "acme", "webhook", "very-secret-header-value", "test",
            CancellationToken.None);
        Assert.Equal("very-secret-header-value",
            await storeA.RevealAsync("acme", info.Reference, CancellationToken.None));
        // another org cannot open it by reference
        Assert.Null(await storeA.RevealAsync("other", info.Reference, CancellationToken.None));

        foreach (var file in Directory.GetFiles(dir.Path, "meta.db*")) // the database and its WAL
            Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOf("very-secret-header-value"u8));

        Assert.Equal(1, await SecretStore.RotateAsync(meta, keyA, keyB, CancellationToken.None));
        var storeB = new SecretStore(meta, keyB, audit, TimeProvider.System);
        Assert.Equal("very-secret-header-value",
            await storeB.RevealAsync("acme", info.Reference, CancellationToken.None));
        await Assert.ThrowsAsync<CryptographicException>(() => storeA.RevealAsync("acme", info.Reference,
            CancellationToken.None));

        Environment.SetEnvironmentVariable("MS_TEST_SECRET", "from-env");
        Assert.Equal("from-env", await storeB.RevealAsync("acme", "env:MS_TEST_SECRET", CancellationToken.None));
    }

    [Fact]
    public async Task The_rotate_command_rewraps_what_the_api_stored_and_the_api_never_returns_a_value()
    {
        using var dir = new TempDir("ms-rotate");
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            var put = await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/secrets",
                new { name = "smtp", value = "smtp-password-1" },
                expect: HttpStatusCode.Created);
            Assert.StartsWith("cipher_keys:", put.GetProperty("reference").GetString());
            var list = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/secrets");
            Assert.Equal("smtp", list.GetProperty("secrets")[0].GetProperty("name").GetString());
            Assert.DoesNotContain("smtp-password-1", put.GetRawText() + list.GetRawText());
            node.Process.Stop();
        }
        var newKey = NewKey();
        var rotate = new Dictionary<string, string>(env) { ["MS_CIPHER_KEY_NEW"] = newKey };
        var (code, output) = await MoleSignalNode.RunToExitAsync(rotate, ["rotate-cipher-key"], dir.Path);
        Assert.True(code == 0, output);
        Assert.Contains("re-wrapped 1 secrets", output);

        await using var meta = MetaStore.Sqlite(Path.Combine(dir.Path, "data", "meta.db"));
        var store = new SecretStore(meta, MasterKey.From(newKey), new AuditLog(meta, TimeProvider.System),
            TimeProvider.System);
        var id = (string)(await meta.ScalarAsync("SELECT id FROM cipher_keys WHERE name = 'smtp'"))!;
        Assert.Equal("smtp-password-1",
            await store.RevealAsync("default", "cipher_keys:" + id, CancellationToken.None));
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_cluster_mode_node_refuses_to_start_without_a_real_cipher_key()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_STORE.META.BACKEND"] = "postgres";
        env["MS_STORE.META.DSN"] = pg.Dsn(await pg.CreateDatabaseAsync());
        env["MS_NODE.ROLES"] = "router";
        env["MS_CLUSTER.ADVERTISE_ADDR"] = "127.0.0.1:" + env["MS_GRPC.PORT"];
        foreach (var key in new[] { null, Convert.ToBase64String(new byte[32]) })
        {
            env["MS_CIPHER_KEY"] = key ?? ""; // empty: unset
            var (code, output) = await MoleSignalNode.RunToExitAsync(env);
            Assert.Equal(2, code);
            Assert.Contains("MS_CIPHER_KEY", output);
        }
    }
}
