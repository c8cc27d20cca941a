using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Auth;

/// <summary>
/// Every route of the node's own endpoint table (<c>molesignal routes</c>), called on the real binary without
/// credentials, with a bad token and as a principal of another org: a route added later cannot slip through.
/// </summary>
public sealed class RouteWalkTests
{
    private static readonly HashSet<string> OpenByDesign =
    [
        "POST /api/v1/auth/login", "GET /api/v1/healthz", "GET /api/v1/readyz", "GET /healthz", "GET /readyz",
    ];

    private sealed record Route(string Port, string Method, string Path, string Access);

    private static async Task<List<Route>> RoutesAsync()
    {
        var (code, output) = await MoleSignalNode.RunToExitAsync(args: ["routes"]);
        Assert.True(code == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("http ", StringComparison.Ordinal) || l.StartsWith("grpc ",
                StringComparison.Ordinal))
            .Select(l => l.Split(' ', 4))
            .Select(p => new Route(p[0], p[1], p[2], p[3]))
            .ToList();
    }

    private static string Concrete(string pattern) => pattern
        .Replace("{org}", "default").Replace("{stream}", "s").Replace("{id}", "x").Replace("{email}", "a%40b.io")
        .Replace("{index}", "s").Replace("{name}", "n");

    [Fact]
    public async Task Every_api_route_refuses_no_credentials_bad_ones_and_another_orgs_principal()
    {
        var routes = await RoutesAsync();
        // Every HTTP route but the probes and /metrics (open by design): /api and the protocol paths beside it.
        var api = routes.Where(r => r.Port == "http" && (r.Path.StartsWith("/api/", StringComparison.Ordinal)
            || r.Access is not ("anonymous" or "open"))).ToList();
        Assert.Contains(api, r => r.Path == "/loki/api/v1/push");
        Assert.True(api.Count >= 30, $"only {api.Count} /api routes listed");
        Assert.DoesNotContain(routes, r => r.Access == "none");
        Assert.Equal(OpenByDesign.Where(k => k.Contains("/api/")).Order(),
            api.Where(r => r.Access == "anonymous").Select(r => $"{r.Method} {r.Path}").Order());

        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        await AuthApi.CreateOrgAsync(node.Http, "other");
        await AuthApi.AddMemberAsync(node.Http, "other", "boss@other.io", "admin", "other-admin-pw");
        var otherAdmin = MoleSignalNode.Basic("boss@other.io", "other-admin-pw");
        var badToken = AuthApi.Bearer("ms_000000000000_" + new string('0', 40));
        using var anon = AuthApi.Anonymous(node);

        foreach (var r in api.Where(r => r.Access != "anonymous"))
        {
            var method = new HttpMethod(r.Method);
            var path = Concrete(r.Path);
            HttpContent Body() => new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using (var req = new HttpRequestMessage(method,
                path) { Content = method == HttpMethod.Get ? null : Body() })
            using (var resp = await anon.SendAsync(req))
            {
                Assert.True(resp.StatusCode == HttpStatusCode.Unauthorized,
                    $"{r.Method} {r.Path} without credentials: {(int)resp.StatusCode}");
                Assert.Equal("Basic realm=\"molesignal\"", resp.Headers.WwwAuthenticate.ToString());
                var body = await resp.Content.ReadAsStringAsync();
                if (method != HttpMethod.Head) Assert.Contains("\"error\":\"unauthorized\"", body);
            }
            Assert.True(await AuthApi.StatusAsync(anon, method, path, badToken,
                content: Body()) == HttpStatusCode.Unauthorized,
                $"{r.Method} {r.Path} with a bad token");
            if (r.Access == "principal") continue; // the caller's own account and tokens: no org to be wrong about
            var status = await AuthApi.StatusAsync(anon, method, path, otherAdmin, org: "default", content: Body());
            Assert.True(status == HttpStatusCode.Forbidden,
                $"{r.Method} {r.Path} as another org's admin: {(int)status}");
        }
    }

    [Fact]
    public async Task Every_route_is_in_the_openapi_document_with_its_method()
    {
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        using (var reader = new StringReader(File.ReadAllText(MoleSignal.Tests.Deploy.ComposeFile.RepoFile("docs", "openapi.yaml"))))
            yaml.Load(reader);
        var paths = (YamlDotNet.RepresentationModel.YamlMappingNode)
            ((YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode)["paths"];
        var documented = paths.Children.SelectMany(p => ((YamlDotNet.RepresentationModel.YamlMappingNode)p.Value).Children.Keys
            .Select(m => $"{m.ToString().ToUpperInvariant()} {p.Key}")).ToHashSet();
        var missing = (await RoutesAsync()).Where(r => r.Port == "http" && r.Method != "*")
            .Select(r => $"{r.Method} {r.Path}").Where(r => !documented.Contains(r)).ToList();
        Assert.True(missing.Count == 0, "not in docs/openapi.yaml: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task The_grpc_port_serves_health_to_anyone_and_every_other_service_needs_a_principal()
    {
        var routes = await RoutesAsync();
        var grpc = routes.Where(r => r.Port == "grpc").ToList();
        Assert.Contains(grpc, r => r.Path == "/grpc.health.v1.Health/Check" && r.Access == "anonymous");
        Assert.All(grpc.Where(r => !r.Path.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)),
            r => Assert.True(r.Access is "principal" or "unimplemented", $"{r.Path}: {r.Access}"));

        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{env["MS_GRPC.PORT"]}");
        // Answered (not UNAUTHENTICATED) without credentials; the status itself is the health service's business.
        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.NotNull(reply);
        // Every other service refuses a call that carries no credentials, before reading its message.
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        foreach (var route in grpc.Where(r => r.Access == "principal"))
        {
            var parts = route.Path.TrimStart('/').Split('/');
            var method = new Method<byte[], byte[]>(MethodType.Unary, parts[0], parts[1], bytes, bytes);
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), []));
            Assert.True(e.StatusCode == StatusCode.Unauthenticated, $"{route.Path}: {e.Status}");
        }
    }
}
