using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Secrets;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;

namespace MoleSignal.Silo.Startup;

/// <summary>
/// <c>molesignal routes</c>: the node's own endpoint table, one line each — port, method, pattern, access — so
/// operators and the tests see every route and what it needs, from the same mapping the node serves.
/// </summary>
public static class RouteTable
{
    public static int Print(MoleSignalConfig config, IConfigurationRoot root, RoleSet roles)
    {
        foreach (var line in Lines(config, root, roles)) Console.WriteLine(line);
        return 0;
    }

    public static IEnumerable<string> Lines(MoleSignalConfig config, IConfigurationRoot root, RoleSet roles)
    {
        // Nothing is opened: an in-memory metadata store and an object store that is never touched.
        var meta = MetaStore.Sqlite("Data Source=molesignal-routes;Mode=Memory;Cache=Shared");
        var objects = new LocalObjectStore(Path.Combine(Path.GetTempPath(), "molesignal-routes"));
        var app = SiloProgram.Build(config, root, roles, objects, new ObjectStoreProbe(objects), meta, new byte[32],
            MasterKey.Dev);
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>();
        foreach (var e in endpoints.OrderBy(e => e.RoutePattern.RawText, StringComparer.Ordinal))
        {
            var pattern = "/" + (e.RoutePattern.RawText ?? "").TrimStart('/');
            var methods = e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"];
            // gRPC's catch-all routes answer UNIMPLEMENTED to anyone; they reach no service.
            var unimplemented = pattern.Contains("grpcunimplemented", StringComparison.Ordinal);
            var grpc = unimplemented || e.Metadata.Any(m => m.GetType().Name == "GrpcMethodMetadata");
            var access = unimplemented ? "unimplemented"
                : grpc ? pattern.StartsWith(GrpcAuthInterceptor.HealthService,
                    StringComparison.Ordinal) ? "anonymous" : "principal"
                : e.Metadata.GetMetadata<RouteAccess>()?.ToString() ?? (pattern.StartsWith("/api",
                    StringComparison.Ordinal) ? "none" : "open");
            foreach (var m in methods) yield return $"{(grpc ? "grpc" : "http")} {m} {pattern} {access}";
        }
    }
}
