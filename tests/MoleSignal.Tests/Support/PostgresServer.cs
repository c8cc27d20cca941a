using Npgsql;

namespace MoleSignal.Tests.Support;

/// <summary>
/// A private PostgreSQL server from the installed binaries on a free loopback port, in a temp directory, as the
/// postgres user when the tests run as root. Stopped by PID and removed on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly TempDir _dir = new("ms-pg");
    private ChildProcess? _server;

    public int Port { get; } = Ports.Free();

    public string Dsn(string database = "postgres") => $"postgres://postgres:secret@127.0.0.1:{Port}/{database}";

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password=secret;Database={database};Pooling=false";

    public static string BinDir()
    {
        var dirs = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).ToList()
            : [];
        foreach (var d in dirs)
            if (File.Exists(Path.Combine(d, "bin", "postgres"))) return Path.Combine(d, "bin");
        throw new InvalidOperationException("PostgreSQL server binaries not found under /usr/lib/postgresql (.ci/run installs them)");
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static (string File, string[] Args) AsServerUser(string file, params string[] args) =>
        IsRoot ? ("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", file, .. args]) : (file, args);

    public async Task InitializeAsync()
    {
        var bin = BinDir();
        var data = _dir.Combine("data");
        Directory.CreateDirectory(data);
        if (IsRoot)
        {
            Chown(_dir.Path);
            Chown(data);
        }
        var pwfile = _dir.Combine("pw");
        await File.WriteAllTextAsync(pwfile, "secret\n");
        if (IsRoot) Chown(pwfile);
        var (f, a) = AsServerUser(Path.Combine(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--no-sync");
        using (var init = new ChildProcess(f, a))
        {
            var code = await init.WaitForExitAsync(TimeSpan.FromMinutes(2));
            if (code != 0) throw new InvalidOperationException("initdb failed: " + init.Output);
        }
        await StartAsync();
    }

    /// <summary>Starts the server on its data directory (again, after <see cref="Stop"/>).</summary>
    public async Task StartAsync()
    {
        var (f, a) = AsServerUser(Path.Combine(BinDir(), "postgres"), "-D", _dir.Combine("data"), "-p", Port.ToString(), "-k", _dir.Path,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB");
        _server?.Dispose();
        _server = new ChildProcess(f, a);
        await Poll.UntilAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(ConnectionString());
            await conn.OpenAsync();
            return true;
        }, ok => ok, TimeSpan.FromSeconds(60), "postgres accepting connections");
    }

    /// <summary>Stops the server at once (SIGQUIT: immediate shutdown, every connection dropped).</summary>
    public void Stop()
    {
        if (_server is { HasExited: false }) ChildProcess.Signal(_server.Pid, 3);
        _server?.Process.WaitForExit(30_000);
    }

    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await using var conn = new NpgsqlConnection(ConnectionString());
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
        await cmd.ExecuteNonQueryAsync();
        return name;
    }

    private static void Chown(string path)
    {
        using var p = System.Diagnostics.Process.Start("chown", ["postgres:postgres", path]);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"chown postgres {path} failed");
    }

    public Task DisposeAsync()
    {
        // SIGINT = fast shutdown.
        if (_server is { HasExited: false }) ChildProcess.Signal(_server.Pid, 2);
        _server?.Process.WaitForExit(30_000);
        _server?.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
