using System.Collections.Concurrent;
using System.Diagnostics;

namespace MoleSignal.Tests.Support;

/// <summary>A process the tests started, with its output kept; stopped by PID on dispose.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly ConcurrentQueue<string> _lines = new();

    public ChildProcess(string file, IEnumerable<string> args, string? workDir = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        Process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public int Pid => Process.Id;

    public string Output => string.Join('\n', _lines);

    public bool HasExited => Process.HasExited;

    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        await Process.WaitForExitAsync(cts.Token);
        return Process.ExitCode;
    }

    public Task WaitForLineAsync(Func<string, bool> match, TimeSpan deadline, string what) =>
        Poll.UntilAsync(() => _lines.Any(match) || Fail(), deadline, what);

    private bool Fail() => Process.HasExited ? throw new InvalidOperationException($"process exited ({Process.ExitCode}): {Output}") : false;

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM and wait for a clean exit (falls back to kill).</summary>
    public void Stop(TimeSpan? grace = null)
    {
        if (Process.HasExited) return;
        Signal(Pid, 15);
        if (!Process.WaitForExit((int)(grace ?? TimeSpan.FromSeconds(20)).TotalMilliseconds)) Kill();
    }

    /// <summary>SIGSTOP: the process holds its sockets open but answers nothing until it is killed.</summary>
    public void Freeze() => Signal(Pid, 19);

    public static void Signal(int pid, int signal) => kill(pid, signal);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public void Dispose()
    {
        Stop();
        Process.Dispose();
    }
}
