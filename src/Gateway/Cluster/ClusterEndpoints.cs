using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Cluster;
using Orleans.Runtime;

namespace MoleSignal.Gateway.Cluster;

/// <summary><c>GET /api/v1/cluster/nodes[?role=...]</c>: live nodes and their roles, beside Orleans' membership view.</summary>
public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapCluster(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/cluster/nodes", async (string? role, IClusterDirectory directory, IGrainFactory grains, CancellationToken ct) =>
        {
            var view = await directory.ViewAsync(role, ct);
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            return Results.Json(new
            {
                mode = view.Mode,
                nodes = view.Nodes.Select(n => new
                {
                    node_id = n.NodeId,
                    roles = n.Roles.Split(','),
                    advertise_addr = n.AdvertiseAddr,
                    started_at = n.StartedAtMicros,
                    last_heartbeat_at = n.LastHeartbeatAtMicros,
                }),
                orleans = hosts.Select(h => new { address = h.SiloAddress.ToString(), name = h.SiloName, status = h.Status.ToString() }),
            }, GatewayJson.Options);
        }).Requires(Permission.Root);
        return app;
    }
}
