using System.Collections.Concurrent;

namespace MoleSignal.Tests.Support;

/// <summary>The workload generator (bench/genlogs.py, in the repository), run once per (records, seed) per test run.</summary>
public static class GenLogs
{
    private static readonly ConcurrentDictionary<(int, int, string), Lazy<byte[]>> Cache = new();

    public static string Script()
    {
        var dir = Path.GetDirectoryName(S3Server.ScriptDir()); // tests/
        var repo = Path.GetDirectoryName(dir)!;
        var script = Path.Combine(repo, "bench", "genlogs.py");
        return File.Exists(script) ? script : throw new FileNotFoundException("bench/genlogs.py not found in the repository", script);
    }

    public static byte[] Generate(int records, int seed = 7, string format = "ndjson") =>
        Cache.GetOrAdd((records, seed, format), k => new Lazy<byte[]>(() =>
        {
            var psi = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { Script(), "--records", k.Item1.ToString(), "--seed", k.Item2.ToString(), "--format", k.Item3 }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException("genlogs.py failed");
            return ms.ToArray();
        })).Value;
}
