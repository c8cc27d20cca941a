using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace MoleSignal.Tests.Support;

/// <summary>The real molesignal binary (built beside the tests) started as its own process in a temp directory.</summary>
public sealed class MoleSignalNode : IDisposable
{
    private readonly TempDir? _ownDir;

    private MoleSignalNode(ChildProcess process, string workDir, int httpPort, TempDir? ownDir)
    {
        Process = process;
        WorkDir = workDir;
        HttpPort = httpPort;
        _ownDir = ownDir;
        Http = NewClient(new Uri($"http://127.0.0.1:{httpPort}"));
    }

    /// <summary>The root user every test node bootstraps (MS_ROOT_USER_EMAIL / MS_ROOT_USER_PASSWORD).</summary>
    public const string RootEmail = "root@molesignal.test", RootPassword = "root-test-password-1";

    public static AuthenticationHeaderValue Basic(string user, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")));

    /// <summary>A fixed non-zero master key: cluster-mode nodes refuse to start without one.</summary>
    public static readonly string TestCipherKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static readonly AuthenticationHeaderValue RootAuth = Basic(RootEmail, RootPassword);

    /// <summary>A client of the node's HTTP port acting as root.</summary>
    public static HttpClient NewClient(Uri baseAddress, TimeSpan? timeout = null)
    {
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = RootAuth;
        return http;
    }

    public ChildProcess Process { get; }
    public string WorkDir { get; }
    public int HttpPort { get; }
    public HttpClient Http { get; }

    public static string BinaryPath => Path.Combine(AppContext.BaseDirectory, "molesignal.dll");

    /// <summary>Loopback binds and free ports for every listener unless the caller sets them.</summary>
    public static Dictionary<string, string> DefaultEnv(bool freePorts)
    {
        var env = new Dictionary<string, string>
        {
            ["MS_HTTP.BIND"] = "127.0.0.1", ["MS_GRPC.BIND"] = "127.0.0.1",
            ["MS_ROOT_USER_EMAIL"] = RootEmail, ["MS_ROOT_USER_PASSWORD"] = RootPassword,
            ["MS_CIPHER_KEY"] = TestCipherKey,
            // Test data carries fixed dates, older than the default five days.
            ["MS_INGESTER.ALLOWED_PAST_HOURS"] = "0",
        };
        if (!freePorts) return env;
        env["MS_HTTP.PORT"] = Ports.Free().ToString();
        env["MS_GRPC.PORT"] = Ports.Free().ToString();
        env["MS_CLUSTER.SILO_PORT"] = Ports.Free().ToString();
        env["MS_CLUSTER.GATEWAY_PORT"] = Ports.Free().ToString();
        return env;
    }

    /// <summary>
    /// <see cref="DefaultEnv"/> for one node of a multi-process cluster on the Postgres at <paramref name="metaDsn"/>:
    /// its id, roles, advertised address and heartbeat every second.
    /// </summary>
    public static Dictionary<string, string> ClusterEnv(string id, string roles, string metaDsn)
    {
        var env = DefaultEnv(freePorts: true);
        env["MS_CLUSTER.ADVERTISE_ADDR"] = "127.0.0.1:" + env["MS_GRPC.PORT"];
        env["MS_STORE.META.BACKEND"] = "postgres";
        env["MS_STORE.META.DSN"] = metaDsn;
        env["MS_NODE.ID"] = id;
        env["MS_NODE.ROLES"] = roles;
        env["MS_CLUSTER.HEARTBEAT_INTERVAL_SECS"] = "1";
        return env;
    }

    /// <param name="freePorts">false: keep the built-in default ports (5080, 5082, 11111, 30000).</param>
    public static MoleSignalNode Start(IDictionary<string, string>? env = null, string[]? args = null, string? workDir = null, bool freePorts = true)
    {
        var all = DefaultEnv(freePorts);
        if (env is not null) foreach (var (k, v) in env) all[k] = v;
        var port = all.TryGetValue("MS_HTTP.PORT", out var p) ? int.Parse(p) : 5080;
        var own = workDir is null ? new TempDir("ms-node") : null;
        var dir = workDir ?? own!.Path;
        var proc = new ChildProcess("dotnet", [BinaryPath, .. args ?? []], dir, all);
        return new MoleSignalNode(proc, dir, port, own);
    }

    /// <summary>Runs the binary to completion (for --print-config and startup failures).</summary>
    public static async Task<(int Code, string Output)> RunToExitAsync(IDictionary<string, string>? env = null, string[]? args = null, string? workDir = null)
    {
        using var node = Start(env, args, workDir);
        var code = await node.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        node.Process.Process.WaitForExit(); // drains the redirected output to its end
        return (code, node.Process.Output);
    }

    public async Task<HttpStatusCode> StatusAsync(string path)
    {
        using var r = await Http.GetAsync(path);
        return r.StatusCode;
    }

    public Task WaitHealthyAsync(TimeSpan? deadline = null) =>
        Poll.UntilAsync(async () =>
        {
            if (Process.HasExited) throw new InvalidOperationException($"molesignal exited ({Process.Process.ExitCode}): {Process.Output}");
            return await StatusAsync("/healthz");
        }, s => s == HttpStatusCode.OK, deadline ?? TimeSpan.FromSeconds(60), "molesignal /healthz 200");

    public void Dispose()
    {
        Http.Dispose();
        Process.Dispose();
        _ownDir?.Dispose();
    }
}
