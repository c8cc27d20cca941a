namespace MoleSignal.Tests.Support;

/// <summary>
/// A real S3-compatible server (@20minutes/s3rver) on a free loopback port, from tests/s3server
/// (.ci/run runs its npm install; so does this fixture when node_modules is missing).
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    public const string Bucket = "molesignal-test";
    private readonly TempDir _dir = new("ms-s3");
    private ChildProcess? _node;

    public int Port { get; } = Ports.Free();

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static string ScriptDir() => NpmPackages.TestsDir("s3server");

    public async Task InitializeAsync()
    {
        var scripts = ScriptDir();
        await NpmPackages.EnsureInstalledAsync(scripts);
        _node = new ChildProcess("node", [Path.Combine(scripts, "server.js"), Port.ToString(), _dir.Path, Bucket], scripts,
            new Dictionary<string, string> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" });
        await _node.WaitForLineAsync(l => l.StartsWith("ready"), TimeSpan.FromSeconds(60), "s3rver ready");
    }

    public Task DisposeAsync()
    {
        _node?.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class S3Collection : ICollectionFixture<S3Server>
{
    public const string Name = "s3";
}
