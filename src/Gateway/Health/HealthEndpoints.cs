using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Health;

namespace MoleSignal.Gateway.Health;

/// <summary>
/// The spec's probes. /healthz: 200 when WAL replay is done and the object store is not degraded.
/// /readyz: 200 once replay is done, even while the store is degraded. Both also under /api/v1/.
/// </summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in new[] { "", "/api/v1" })
        {
            // Probes answer anyone: kubelets and load balancers carry no credentials.
            app.MapGet(prefix + "/healthz", (INodeHealth h) => Liveness(h)).ExcludeFromDescription().AllowsAnonymous();
            app.MapGet(prefix + "/readyz", (INodeHealth h) => Readiness(h)).ExcludeFromDescription().AllowsAnonymous();
        }
        return app;
    }

    public static IResult Liveness(INodeHealth h)
    {
        var reasons = new List<string>();
        if (!h.ReplayDone) reasons.Add(ReplayReason(h));
        if (h.ObjectStoreDegraded) reasons.Add("object store degraded: " + h.ObjectStoreError);
        return Body(reasons, h);
    }

    public static IResult Readiness(INodeHealth h) =>
        Body(h.ReplayDone ? [] : [ReplayReason(h)], h);

    private static string ReplayReason(INodeHealth h) =>
        h.ReplayProblem is { } p
            ? "wal replay failing (acknowledged records not yet visible): " + p
            : "wal replay in progress";

    private static IResult Body(List<string> reasons, INodeHealth h) => Results.Json(new
    {
        status = reasons.Count == 0 ? "ok" : "unavailable",
        replay_done = h.ReplayDone,
        object_store_degraded = h.ObjectStoreDegraded,
        reasons,
    }, GatewayJson.Options, statusCode: reasons.Count == 0 ? 200 : 503);
}
