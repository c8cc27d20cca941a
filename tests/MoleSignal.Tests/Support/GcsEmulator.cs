namespace MoleSignal.Tests.Support;

/// <summary>
/// Google's Cloud Storage emulator (firebase-tools from npm, tests/gcs-emulator; .ci/run installs it, so does this
/// fixture when missing) on a free loopback port. It makes buckets on first use and keeps objects in memory, so a
/// restart after <see cref="Stop"/> starts empty, as a wiped bucket would.
/// </summary>
public sealed class GcsEmulator : IAsyncLifetime
{
    public const string Bucket = "molesignal-test";
    private readonly TempDir _dir = new("ms-gcs");
    private ChildProcess? _node;

    public int Port { get; } = Ports.Free();

    /// <summary>The JSON API base URL for <c>[store.object.gcs].endpoint</c>.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}/storage/v1/";

    public static string ScriptDir() => NpmPackages.TestsDir("gcs-emulator");

    public Task InitializeAsync() => StartAsync();

    /// <summary>Stops the server at once (the degraded-store tests); <see cref="StartAsync"/> brings it back.</summary>
    public void Stop() => _node?.Kill();

    public async Task StartAsync()
    {
        var dir = ScriptDir();
        await NpmPackages.EnsureInstalledAsync(dir);
        _node?.Dispose();
        // Everything the emulator and its Google auth library look for (temp files, home, gcloud config,
        // application default credentials) is this instance's own directory: it reads nothing of the machine.
        _node = new ChildProcess("node", [Path.Combine(dir, "server.js"), Port.ToString()], dir,
            new Dictionary<string, string>
            {
                ["TMPDIR"] = _dir.Path, ["HOME"] = _dir.Path, ["XDG_CONFIG_HOME"] = Path.Combine(_dir.Path, "config"),
                ["CLOUDSDK_CONFIG"] = Path.Combine(_dir.Path, "gcloud"), ["GOOGLE_APPLICATION_CREDENTIALS"] = "",
                ["GCE_METADATA_HOST"] = "127.0.0.1:9", ["NO_GCE_CHECK"] = "true",
            });
        await _node.WaitForLineAsync(l => l.Contains("gcs emulator listening"), TimeSpan.FromSeconds(60), "gcs emulator ready");
    }

    public Task DisposeAsync()
    {
        _node?.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class GcsEmulatorCollection : ICollectionFixture<GcsEmulator>
{
    public const string Name = "gcs-emulator";
}
