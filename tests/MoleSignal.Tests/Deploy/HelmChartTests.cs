using System.Text.RegularExpressions;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace MoleSignal.Tests.Deploy;

/// <summary>
/// The Helm chart without Helm: this machine has no Go toolchain nor a Go module registry, so Helm's template
/// engine cannot be built here. Instead: the values files parse and pass yamllint; the templates hold what every
/// workload needs (probes, resources, security contexts, the WAL volume, the advertise address, the drain); and
/// every MS_ variable the chart sets is a key the binary accepts.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class HelmChartTests
{
    private static readonly string Chart = Path.GetFullPath(ComposeFile.RepoFile("deploy", "helm", "molesignal"));

    private static string Template(string name) => File.ReadAllText(Path.Combine(Chart, "templates", name));

    private static YamlMappingNode Yaml(string file)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(Path.Combine(Chart, file)));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    [Fact]
    public async Task Values_and_chart_parse_pass_yamllint_and_pin_the_image()
    {
        var chart = Yaml("Chart.yaml");
        Assert.Equal("v2", chart["apiVersion"].ToString());
        var values = Yaml("values.yaml");
        var tag = ((YamlMappingNode)values["image"])["tag"].ToString();
        Assert.NotEqual("latest", tag);
        Assert.Equal(chart["appVersion"].ToString(), tag);
        Yaml("values-production.yaml");
        var files = new[] { "Chart.yaml", "values.yaml", "values-production.yaml" }.Select(f => Path.Combine(Chart, f))
            .Concat(Directory.GetFiles(ComposeFile.RepoFile("deploy", "compose"), "*.yaml")).ToArray();
        using var lint = new ChildProcess("yamllint", ["-c", ComposeFile.RepoFile("deploy", ".yamllint"), .. files]);
        Assert.True(await lint.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, lint.Output);
    }

    [Fact]
    public void Every_workload_has_probes_resources_security_contexts_and_the_roles_needs()
    {
        var pod = Template("_helpers.tpl");
        foreach (var needed in new[]
        {
            "startupProbe:", "livenessProbe:\n      httpGet: { path: /healthz", "readinessProbe:\n      httpGet: { path: /readyz",
            "resources: {{- toYaml $v.resources", "securityContext: {{- toYaml $root.Values.securityContext",
            "securityContext: {{- toYaml $root.Values.podSecurityContext", "value: \"$(POD_IP):{{ $root.Values.ports.grpc }}\"",
            "fieldPath: status.podIP", "command: [\"molesignal\", \"drain\"]", "secretRef:",
        })
            Assert.Contains(needed, pod);
        var ingester = Template("ingester.yaml");
        Assert.Contains("kind: StatefulSet", ingester);
        Assert.Contains("podManagementPolicy: Parallel", ingester);
        Assert.Contains("clusterIP: None", ingester);
        Assert.Matches(@"volumeClaimTemplates:\s+- metadata:\s+name: data", ingester);
        Assert.Contains("- { name: data, mountPath: /data }", pod);
        var deployments = Template("deployments.yaml");
        foreach (var role in new[] { "router", "querier", "compactor", "alert_manager" }) Assert.Contains($"(list \"{role}\"", deployments);
        Assert.Contains("kind: HorizontalPodAutoscaler", deployments);
        Assert.Contains("kind: PodDisruptionBudget", deployments);
        foreach (var workload in new[] { ingester, deployments }) Assert.Contains("include \"molesignal.podSpec\"", workload);
        var ingress = Template("ingress.yaml");
        Assert.Contains("\"/api/v1/query/stream\"", ingress);
        Assert.Contains("proxy-buffering: \"off\"", ingress);
        var policy = Template("networkpolicy.yaml");
        Assert.Contains("{{ .Values.ports.silo }}", policy);
        Assert.Contains("{{ .Values.ports.gateway }}", policy);
        // Go-template delimiters balance in every template
        foreach (var file in Directory.GetFiles(Path.Combine(Chart, "templates")))
        {
            var text = File.ReadAllText(file);
            Assert.True(Regex.Matches(text, @"\{\{").Count == Regex.Matches(text, @"\}\}").Count, $"{file}: unbalanced {{ }}");
        }
    }

    [GeneratedRegex(@"name: (?<key>MS_[A-Z0-9_.]+)")]
    private static partial Regex EnvName();

    [Fact]
    public async Task Every_ms_variable_the_chart_sets_is_a_key_the_binary_accepts()
    {
        var names = EnvName().Matches(Template("_helpers.tpl")).Select(m => m.Groups["key"].Value)
            .Concat(Regex.Matches(Template("secret.yaml"), @"(MS_[A-Z0-9_.]+):").Select(m => m.Groups[1].Value)).Distinct().ToList();
        Assert.Contains("MS_CLUSTER.ADVERTISE_ADDR", names);
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        var port = 5900;
        foreach (var n in names)
            env[n] = n switch
            {
                _ when n.EndsWith("PORT") || n.EndsWith("MAX_CONNECTIONS") => (port++).ToString(),
                _ when n.EndsWith("PATH_STYLE") => "true",
                "MS_NODE.ROLES" => "ingester",
                "MS_STORE.META.BACKEND" => "postgres",
                "MS_STORE.META.DSN" => "postgres://u:p@db:5432/molesignal",
                "MS_STORE.OBJECT.BACKEND" => "s3",
                "MS_CLUSTER.ADVERTISE_ADDR" => "10.1.2.3:5082",
                "MS_CIPHER_KEY" => MoleSignalNode.TestCipherKey,
                _ => "value-" + n.Length,
            };
        var (code, output) = await MoleSignalNode.RunToExitAsync(env, ["--print-config"]);
        Assert.True(code == 0, output);
        Assert.Contains("advertise_addr = \"10.1.2.3:5082\"", output);
    }
}
