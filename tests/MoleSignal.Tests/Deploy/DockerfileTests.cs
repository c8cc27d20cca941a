using System.Text.RegularExpressions;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Deploy;

/// <summary>
/// The Dockerfile without a Docker engine: its rules checked, its build stage's commands run here from the
/// repository root (the COPY lines keep the repository's layout), and the published binary started with the
/// runtime stage's environment and answering its HEALTHCHECK command.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class DockerfileTests
{
    private static readonly string Root = Path.GetFullPath(ComposeFile.RepoFile());

    private static List<(string Op, string Args)> Instructions()
    {
        var text = File.ReadAllText(Path.Combine(Root, "Dockerfile")).Replace("\\\n", " ");
        return text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => (l.Split(' ', 2)[0].ToUpperInvariant(), l.Split(' ', 2).ElementAtOrDefault(1) ?? "")).ToList();
    }

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_.]*)=(?<value>\S+)")]
    private static partial Regex EnvPair();

    [Fact]
    public void The_image_is_multi_stage_pinned_non_root_with_a_healthcheck_through_the_binary()
    {
        var ins = Instructions();
        var froms = ins.Where(i => i.Op == "FROM").Select(i => i.Args).ToList();
        Assert.True(froms.Count >= 2, "multi-stage");
        Assert.All(froms, f => Assert.Matches(@"^\S+:\S+", f));
        Assert.DoesNotContain(froms, f => f.Contains(":latest"));
        var runtime = ins.SkipWhile(i => i.Args != froms[^1]).ToList();
        var user = runtime.Last(i => i.Op == "USER").Args;
        Assert.NotEqual("root", user);
        Assert.Contains(runtime, i => i.Op == "HEALTHCHECK" && i.Args.EndsWith("CMD [\"molesignal\", \"healthcheck\"]"));
        Assert.Contains(runtime, i => i.Op == "ENTRYPOINT" && i.Args == "[\"molesignal\"]");
        Assert.Contains(runtime, i => i.Op == "EXPOSE" && i.Args == "5080 5082");
        Assert.Contains(runtime, i => i.Op == "VOLUME" && i.Args == "/data");
        // the runtime stage installs chromium and nothing else
        var installs = runtime.Where(i => i.Op == "RUN" && i.Args.Contains("apt-get install"))
            .SelectMany(i => Regex.Matches(i.Args, @"install -y --no-install-recommends ([a-z0-9. -]+?)(?: &&|$)").Select(m => m.Groups[1].Value.Trim()))
            .ToList();
        Assert.Equal(["chromium"], installs);
        var ignore = File.ReadAllLines(Path.Combine(Root, ".dockerignore"));
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("data/", ignore);
    }

    [Fact]
    public async Task The_build_stage_publishes_a_binary_that_starts_with_the_image_environment_and_passes_its_healthcheck()
    {
        var ins = Instructions();
        var build = ins.TakeWhile((i, n) => n == 0 || i.Op != "FROM").ToList();
        using var output = new TempDir("ms-publish");
        foreach (var run in build.Where(i => i.Op == "RUN").Select(i => i.Args.Replace("/out", output.Path)))
        {
            var parts = run.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            using var p = new ChildProcess(parts[0], parts[1..], Root);
            var code = await p.WaitForExitAsync(TimeSpan.FromMinutes(10));
            Assert.True(code == 0, $"{run}: {p.Output}");
        }
        var binary = Path.Combine(output.Path, "molesignal");
        Assert.True(File.Exists(binary), "the published apphost");

        using var data = new TempDir("ms-image-data");
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        foreach (var e in ins.SkipWhile(i => i.Op != "FROM" || i.Args == ins[0].Args).Where(i => i.Op == "ENV"))
            foreach (Match m in EnvPair().Matches(e.Args))
                if (!m.Groups["key"].Value.EndsWith(".BIND", StringComparison.Ordinal)) // servers here bind loopback
                    env[m.Groups["key"].Value] = m.Groups["value"].Value.Replace("/data", data.Path);
        Assert.Equal(Path.Combine(data.Path, "wal"), env["MS_WAL.DIR"]);
        using var node = new ChildProcess(binary, [], data.Path, env);
        await Poll.UntilAsync(async () =>
        {
            if (node.HasExited) throw new InvalidOperationException(node.Output);
            using var check = new ChildProcess(binary, ["healthcheck"], data.Path, env);
            return await check.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }, code => code == 0, TimeSpan.FromSeconds(90), "molesignal healthcheck exit 0");
        Assert.True(Directory.Exists(Path.Combine(data.Path, "objects")), "objects under the /data volume");
    }
}
