using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

/// <summary>The object-store contract against azurite, plus prefixes, large files and credential precedence.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobObjectStoreTests(AzuriteServer server) : RemoteObjectStoreContract
{
    private static readonly Dictionary<string, string?> NoEnv = new();

    private readonly AzureBlobObjectStore _store = new(Settings(server, accountKey: AzuriteServer.Key), NoEnv);

    protected override IObjectStore Store => _store;

    private static AzureStoreSettings Settings(AzuriteServer s, string prefix = "", string accountKey = "", string connection = "",
        string file = "", string account = AzuriteServer.Account) =>
        new(AzuriteServer.Container, prefix, s.Endpoint, account, accountKey, "", connection, file);

    protected override IObjectStore WithPrefix(string prefix) =>
        new AzureBlobObjectStore(Settings(server, prefix: prefix, accountKey: AzuriteServer.Key), NoEnv);

    // Over the 64 MiB single-shot limit set in the store, so it goes up in 16 MiB blocks.
    protected override int LargeFileBytes => (64 << 20) + 3 * 1024 * 1024 + 17;

    [Fact]
    public async Task Credentials_come_from_env_then_file_then_inline()
    {
        using var dir = new TempDir();
        var file = dir.Combine("connection");
        File.WriteAllText(file, server.ConnectionString);
        var bad = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + Convert.ToBase64String(new byte[64]) +
                  $";BlobEndpoint={server.Endpoint};";
        var key = $"c{Guid.NewGuid():N}";
        await _store.PutAsync(key, new byte[] { 7 });

        async Task<bool> Works(AzureStoreSettings s, Dictionary<string, string?> env)
        {
            try
            {
                return await new AzureBlobObjectStore(s, env).GetAsync(key) is [7];
            }
            catch (Azure.RequestFailedException)
            {
                return false;
            }
        }
        var envGood = new Dictionary<string, string?> { ["AZURE_STORAGE_CONNECTION_STRING"] = server.ConnectionString };
        // env wins over a bad file and bad inline keys
        Assert.True(await Works(Settings(server, accountKey: "AAAA", file: dir.Combine("bad")), envGood));
        // the file wins over bad inline keys
        File.WriteAllText(dir.Combine("bad"), bad);
        Assert.True(await Works(Settings(server, accountKey: Convert.ToBase64String(new byte[64]), file: file), NoEnv));
        Assert.False(await Works(Settings(server, connection: server.ConnectionString, file: dir.Combine("bad")), NoEnv));
        // inline last: a connection string, or account + key
        Assert.True(await Works(Settings(server, connection: server.ConnectionString), NoEnv));
        Assert.True(await Works(Settings(server, accountKey: AzuriteServer.Key), NoEnv));
        Assert.Throws<ArgumentException>(() => new AzureBlobObjectStore(Settings(server, account: ""), NoEnv));
    }
}
