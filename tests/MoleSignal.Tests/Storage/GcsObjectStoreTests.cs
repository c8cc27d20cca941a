using System.Security.Cryptography;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

/// <summary>The object-store contract against Google's Cloud Storage emulator, plus prefixes, large files and credentials.</summary>
[Collection(GcsEmulatorCollection.Name)]
public sealed class GcsObjectStoreTests(GcsEmulator server) : RemoteObjectStoreContract
{
    private static readonly Dictionary<string, string?> NoEnv = new();

    private readonly GcsObjectStore _store = new(Settings(server), NoEnv);

    protected override IObjectStore Store => _store;

    private static GcsStoreSettings Settings(GcsEmulator s, string prefix = "", string file = "", string json = "") =>
        new(GcsEmulator.Bucket, prefix, s.Endpoint, file, json);

    /// <summary>A service-account key as Google issues it, with a fresh RSA key.</summary>
    private static string ServiceAccountJson(string email)
    {
        using var rsa = RSA.Create(2048);
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = "molesignal-test",
            ["private_key_id"] = Guid.NewGuid().ToString("N"),
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = email,
            ["client_id"] = "1",
            ["token_uri"] = "https://oauth2.googleapis.com/token",
        });
    }

    private static string? AccountOf(GoogleCredential? c) => (c?.UnderlyingCredential as ServiceAccountCredential)?.Id;

    protected override IObjectStore WithPrefix(string prefix) => new GcsObjectStore(Settings(server, prefix: prefix), NoEnv);

    // Over three of the store's 16 MiB resumable-upload chunks.
    protected override int LargeFileBytes => (48 << 20) + 3 * 1024 * 1024 + 17;

    [Fact]
    public async Task Listing_pages_through_more_objects_than_one_page_holds()
    {
        // The JSON API returns at most 1,000 objects a page; the client follows nextPageToken.
        var prefix = $"page{Guid.NewGuid():N}/";
        await Parallel.ForEachAsync(Enumerable.Range(0, 1203), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, ct) => await _store.PutAsync($"{prefix}{i:D5}", new byte[] { 1 }, ct));
        var all = await ToListAsync(_store.ListAsync(prefix));
        Assert.Equal(1203, all.Select(o => o.Key).Distinct().Count());
    }

    [Fact]
    public void Credentials_come_from_env_then_file_then_inline_json()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("env.json"), ServiceAccountJson("env@molesignal-test.iam.gserviceaccount.com"));
        File.WriteAllText(dir.Combine("file.json"), ServiceAccountJson("file@molesignal-test.iam.gserviceaccount.com"));
        var inline = ServiceAccountJson("inline@molesignal-test.iam.gserviceaccount.com");
        var env = new Dictionary<string, string?> { ["GOOGLE_APPLICATION_CREDENTIALS"] = dir.Combine("env.json") };
        var all = Settings(server, file: dir.Combine("file.json"), json: inline);

        Assert.Equal("env@molesignal-test.iam.gserviceaccount.com", AccountOf(GcsObjectStore.ResolveCredential(all, env)));
        Assert.Equal("file@molesignal-test.iam.gserviceaccount.com", AccountOf(GcsObjectStore.ResolveCredential(all, NoEnv)));
        Assert.Equal("inline@molesignal-test.iam.gserviceaccount.com",
            AccountOf(GcsObjectStore.ResolveCredential(Settings(server, json: inline), NoEnv)));
        Assert.Null(GcsObjectStore.ResolveCredential(Settings(server), NoEnv));
    }

    [Fact]
    public async Task A_store_with_a_service_account_key_signs_its_own_tokens_and_works()
    {
        // No token endpoint is reachable here: the request succeeds only because the key signs a JWT access token.
        var store = new GcsObjectStore(Settings(server, json: ServiceAccountJson("sa@molesignal-test.iam.gserviceaccount.com")),
            NoEnv);
        var key = $"sa{Guid.NewGuid():N}";
        await store.PutAsync(key, new byte[] { 9 });
        Assert.Equal(new byte[] { 9 }, await store.GetAsync(key));
        await store.DeleteAsync(key);
        Assert.Null(await store.GetAsync(key));
    }
}
