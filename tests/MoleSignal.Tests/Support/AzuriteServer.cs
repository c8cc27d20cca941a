using Azure.Storage.Blobs;

namespace MoleSignal.Tests.Support;

/// <summary>
/// azurite's blob service (npm, tests/azurite; .ci/run installs it, so does this fixture when missing) on a free
/// loopback port with its well-known dev account, and a container made for the tests. azurite 3.37 refuses the
/// API version Azure.Storage.Blobs 12.30 sends unless told to skip that check.
/// </summary>
public sealed class AzuriteServer : IAsyncLifetime
{
    public const string Account = "devstoreaccount1";
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    public const string Container = "molesignal-test";
    private readonly TempDir _dir = new("ms-azurite");
    private ChildProcess? _node;

    public int Port { get; } = Ports.Free();

    public string Endpoint => $"http://127.0.0.1:{Port}/{Account}";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};BlobEndpoint={Endpoint};";

    public async Task InitializeAsync()
    {
        await StartAsync();
    }

    /// <summary>Stops the server at once (the degraded-store tests); <see cref="StartAsync"/> brings it back.</summary>
    public void Stop() => _node?.Kill();

    public async Task StartAsync()
    {
        var dir = NpmPackages.TestsDir("azurite");
        await NpmPackages.EnsureInstalledAsync(dir);
        _node?.Dispose();
        _node = new ChildProcess("node", [Path.Combine(dir, "node_modules", "azurite", "dist", "src", "blob", "main.js"),
            "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", _dir.Path, "--skipApiVersionCheck", "--loose"], dir);
        await _node.WaitForLineAsync(l => l.Contains("successfully listens"), TimeSpan.FromSeconds(60), "azurite ready");
        // azurite saves its metadata now and then: after a kill it may have forgotten the container (Azure would not).
        await new BlobContainerClient(ConnectionString, Container).CreateIfNotExistsAsync();
    }

    public Task DisposeAsync()
    {
        _node?.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteServer>
{
    public const string Name = "azurite";
}
