using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace MoleSignal.Tests.Deploy;

/// <summary>
/// The Helm chart rendered (deploy/helm/render: Go's text/template with sprig and Helm's include, tpl, required,
/// fail, toYaml — Helm's engine, rebuilt from Debian's packages because the helm module cannot be fetched here)
/// for the default values and the production example, and the manifests checked: every workload has probes,
/// resources, a non-root security context, the advertise address and a pinned image; ingesters have their WAL
/// claim and the drain; yamllint passes; every MS_ variable set is a key the binary accepts.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class HelmChartTests
{
    private static readonly string Chart = Path.GetFullPath(ComposeFile.RepoFile("deploy", "helm", "molesignal"));
    private static readonly Lazy<Task<string>> Renderer = new(BuildRendererAsync);

    private static Dictionary<string, string> GoEnv(string cache) => new()
    {
        ["GO111MODULE"] = "off", ["GOPATH"] = "/usr/share/gocode", ["GOCACHE"] = cache, ["GOFLAGS"] = "",
    };

    private static async Task<string> BuildRendererAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ms-helm-render-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var binary = Path.Combine(dir, "render");
        using var go = new ChildProcess("go", ["build", "-o", binary, "."], ComposeFile.RepoFile("deploy", "helm", "render"),
            GoEnv(Path.Combine(dir, "cache")));
        Assert.True(await go.WaitForExitAsync(TimeSpan.FromMinutes(5)) == 0, "go build: " + go.Output);
        return binary;
    }

    private static async Task<(int Code, string Output)> RenderAsync(params string[] valueFiles)
    {
        var binary = await Renderer.Value;
        var args = valueFiles.SelectMany(f => new[] { "-f", f }).Append(Chart).ToArray();
        using var p = new ChildProcess(binary, args);
        var code = await p.WaitForExitAsync(TimeSpan.FromMinutes(1));
        p.Process.WaitForExit();
        return (code, p.Output);
    }

    private static async Task<(string Text, List<YamlMappingNode> Docs)> RenderedAsync(params string[] valueFiles)
    {
        var (code, output) = await RenderAsync(valueFiles);
        Assert.True(code == 0, output);
        var stream = new YamlStream();
        using (var reader = new StringReader(output)) stream.Load(reader);
        return (output, stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList());
    }

    private static string RequiredValues(TempDir dir)
    {
        var path = dir.Combine("required.yaml");
        File.WriteAllText(path, $"store: {{ meta: {{ dsn: \"postgres://ms:pw@db:5432/molesignal\" }} }}\n" +
                                $"auth: {{ cipherKey: \"{MoleSignalNode.TestCipherKey}\", rootUserPassword: \"chart-root-pw\" }}\n");
        return path;
    }

    private static string S(YamlNode n, params string[] path)
    {
        foreach (var p in path) n = ((YamlMappingNode)n)[p];
        return ((YamlScalarNode)n).Value ?? "";
    }

    private static YamlNode? Get(YamlNode n, params string[] path)
    {
        foreach (var p in path)
            if (n is not YamlMappingNode m || !m.Children.TryGetValue(p, out n!)) return null;
        return n;
    }

    [Fact]
    public async Task Values_and_chart_parse_pass_yamllint_and_pin_the_image()
    {
        var files = new[] { "Chart.yaml", "values.yaml", "values-production.yaml" }.Select(f => Path.Combine(Chart, f))
            .Concat(Directory.GetFiles(ComposeFile.RepoFile("deploy", "compose"), "*.yaml")).ToArray();
        using var lint = new ChildProcess("yamllint", ["-c", ComposeFile.RepoFile("deploy", ".yamllint"), .. files]);
        Assert.True(await lint.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, lint.Output);
        var values = File.ReadAllText(Path.Combine(Chart, "values.yaml"));
        Assert.Contains("tag: \"0.1.0\"", values);
        Assert.Contains("appVersion: \"0.1.0\"", File.ReadAllText(Path.Combine(Chart, "Chart.yaml")));
    }

    [Fact]
    public async Task Without_a_dsn_or_a_cipher_key_the_chart_refuses_to_render()
    {
        var (code, output) = await RenderAsync();
        Assert.NotEqual(0, code);
        Assert.Contains("store.meta.dsn is required", output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_workload_has_probes_resources_security_the_advertise_address_and_ingesters_their_wal(bool production)
    {
        using var dir = new TempDir("ms-helm");
        var (text, docs) = production
            ? await RenderedAsync(Path.Combine(Chart, "values-production.yaml"))
            : await RenderedAsync(RequiredValues(dir));
        var workloads = docs.Where(d => S(d, "kind") is "Deployment" or "StatefulSet").ToList();
        var roles = workloads.Select(w => S(w, "spec", "template", "metadata", "labels", "app.kubernetes.io/component")).Order();
        Assert.Equal(["alert_manager", "compactor", "ingester", "querier", "router"], roles);
        foreach (var w in workloads)
        {
            var name = S(w, "metadata", "name");
            var pod = (YamlMappingNode)Get(w, "spec", "template", "spec")!;
            Assert.Equal("true", S(pod, "securityContext", "runAsNonRoot"));
            var c = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Children[0];
            foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
                Assert.True(Get(c, probe, "httpGet", "path") is not null, $"{name}: {probe}");
            Assert.Equal("/healthz", S(c, "livenessProbe", "httpGet", "path"));
            Assert.Equal("/readyz", S(c, "readinessProbe", "httpGet", "path"));
            Assert.NotNull(Get(c, "resources", "requests", "memory"));
            Assert.NotNull(Get(c, "resources", "limits", "memory"));
            Assert.Equal("false", S(c, "securityContext", "allowPrivilegeEscalation"));
            var image = S(c, "image");
            Assert.Matches(@"^[^:]+:[0-9][^:]*$", image);
            var env = ((YamlSequenceNode)c["env"]).Children.Cast<YamlMappingNode>()
                .Where(e => e.Children.ContainsKey("value")).ToDictionary(e => S(e, "name"), e => S(e, "value"));
            Assert.Equal("$(POD_IP):5082", env["MS_CLUSTER.ADVERTISE_ADDR"]);
            Assert.Equal(S(w, "spec", "template", "metadata", "labels", "app.kubernetes.io/component"), env["MS_NODE.ROLES"]);
        }
        var ingester = workloads.Single(w => S(w, "kind") == "StatefulSet");
        Assert.Equal("Parallel", S(ingester, "spec", "podManagementPolicy"));
        var claim = (YamlMappingNode)((YamlSequenceNode)Get(ingester, "spec", "volumeClaimTemplates")!).Children[0];
        Assert.Equal("data", S(claim, "metadata", "name"));
        Assert.Equal(production ? "100Gi" : "20Gi", S(claim, "spec", "resources", "requests", "storage"));
        var ic = (YamlMappingNode)((YamlSequenceNode)Get(ingester, "spec", "template", "spec", "containers")!).Children[0];
        Assert.Equal("[molesignal, drain]", "[" + string.Join(", ",
            ((YamlSequenceNode)Get(ic, "lifecycle", "preStop", "exec", "command")!).Children.Select(x => x.ToString())) + "]");
        Assert.Equal("120", S(ic, "startupProbe", "failureThreshold"));
        Assert.DoesNotContain(docs, d => S(d, "kind") == "Secret" && production);
        Assert.Contains(docs, d => S(d, "kind") == "NetworkPolicy");
        Assert.Contains(docs, d => S(d, "kind") == "PodDisruptionBudget");
        Assert.Equal(production ? 2 : 0, docs.Count(d => S(d, "kind") == "HorizontalPodAutoscaler"));
        if (production)
        {
            var stream = docs.Single(d => S(d, "kind") == "Ingress" && text.Contains("proxy-buffering") &&
                                          Get(d, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-buffering") is not null);
            Assert.Equal("off", S(stream, "metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-buffering"));
            Assert.Contains("/api/v1/query/stream", ((YamlSequenceNode)Get(stream, "spec", "rules")!).ToString());
        }
        var manifest = dir.Combine("rendered.yaml");
        await File.WriteAllTextAsync(manifest, text + "\n"); // the process output comes without its last newline
        using var lint = new ChildProcess("yamllint", ["-c", ComposeFile.RepoFile("deploy", ".yamllint"), manifest]);
        Assert.True(await lint.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, lint.Output);
    }

    [Fact]
    public async Task Every_ms_variable_the_rendered_chart_sets_is_a_key_the_binary_accepts()
    {
        using var dir = new TempDir("ms-helm-env");
        var (_, docs) = await RenderedAsync(RequiredValues(dir));
        var ingester = docs.Single(d => S(d, "kind") == "StatefulSet");
        var c = (YamlMappingNode)((YamlSequenceNode)Get(ingester, "spec", "template", "spec", "containers")!).Children[0];
        var env = MoleSignalNode.DefaultEnv(freePorts: false);
        foreach (var e in ((YamlSequenceNode)c["env"]).Children.Cast<YamlMappingNode>().Where(e => e.Children.ContainsKey("value")))
            env[S(e, "name")] = S(e, "value").Replace("$(POD_IP)", "10.1.2.3");
        var secret = docs.Single(d => S(d, "kind") == "Secret");
        foreach (var (k, v) in (YamlMappingNode)secret["stringData"]) env[k.ToString()] = v.ToString();
        env["MS_NODE.DATA_DIR"] = dir.Combine("data");
        env["MS_WAL.DIR"] = dir.Combine("data", "wal");
        var (code, output) = await MoleSignalNode.RunToExitAsync(env, ["--print-config"]);
        Assert.True(code == 0, output);
        Assert.Contains("advertise_addr = \"10.1.2.3:5082\"", output);
        Assert.Contains("roles = [\"ingester\"]", output);
    }
}
