using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MoleSignal.Tests.Deploy;

/// <summary>
/// A docker-compose file read the way Compose reads it: YAML merge keys (<c>&lt;&lt;: *anchor</c>), then
/// <c>${VAR:-default}</c>, <c>${VAR:?message}</c> and <c>$$</c> interpolated from the given variables.
/// </summary>
public sealed partial class ComposeFile
{
    public sealed record Service(string Name, string? Image, IReadOnlyList<string> Command,
        IReadOnlyDictionary<string, string> Environment, IReadOnlyList<string> DependsOn, IReadOnlyList<string> Healthcheck);

    public required IReadOnlyDictionary<string, Service> Services { get; init; }

    public static string RepoFile(params string[] parts) =>
        Path.Combine([Support.S3Server.ScriptDir(), "..", "..", .. parts]);

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:-|:\?)(?<arg>[^}]*))?\}")]
    private static partial Regex Variable();

    public static string Interpolate(string text, IReadOnlyDictionary<string, string> vars) =>
        Variable().Replace(text, m =>
        {
            if (m.Value == "$$") return "$";
            var name = m.Groups["name"].Value;
            var set = vars.TryGetValue(name, out var v) && v.Length > 0;
            return m.Groups["op"].Value switch
            {
                ":-" => set ? v! : m.Groups["arg"].Value,
                ":?" => set ? v! : throw new InvalidOperationException($"{name}: {m.Groups["arg"].Value}"),
                _ => v ?? "",
            };
        });

    public static ComposeFile Load(string path, IReadOnlyDictionary<string, string> vars)
    {
        var yaml = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path)))
            yaml.Load(new MergingParser(new Parser(reader)));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var services = new Dictionary<string, Service>();
        foreach (var (key, node) in (YamlMappingNode)root["services"])
        {
            var s = (YamlMappingNode)node;
            string? Scalar(string k) => s.Children.TryGetValue(k, out var n) ? Interpolate(((YamlScalarNode)n).Value ?? "", vars) : null;
            List<string> Seq(YamlNode? n) => n is YamlSequenceNode seq
                ? seq.Children.Select(c => Interpolate(((YamlScalarNode)c).Value ?? "", vars)).ToList()
                : [];
            var env = new Dictionary<string, string>();
            if (s.Children.TryGetValue("environment", out var e))
                foreach (var (k, v) in (YamlMappingNode)e)
                    env[((YamlScalarNode)k).Value!] = Interpolate(((YamlScalarNode)v).Value ?? "", vars);
            var deps = s.Children.TryGetValue("depends_on", out var d)
                ? ((YamlMappingNode)d).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList()
                : [];
            var health = s.Children.TryGetValue("healthcheck", out var h) && h is YamlMappingNode hm && hm.Children.TryGetValue("test", out var t)
                ? Seq(t)
                : [];
            services[((YamlScalarNode)key).Value!] = new Service(((YamlScalarNode)key).Value!, Scalar("image"),
                s.Children.TryGetValue("command", out var c) ? Seq(c) : [], env, deps, health);
        }
        return new ComposeFile { Services = services };
    }
}
