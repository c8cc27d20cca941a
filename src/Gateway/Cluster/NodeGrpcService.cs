using Grpc.Core;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Cluster;
using MoleSignal.Grains.Abstractions.Health;
using MoleSignal.Rpc.V1;

namespace MoleSignal.Gateway.Cluster;

/// <summary><c>molesignal.v1.Node/Info</c>: this node's id, roles, version and probes to any principal; the
/// cluster's live nodes to root only (as <c>GET /api/v1/cluster/nodes</c>).</summary>
public sealed class NodeGrpcService(NodeSelf self, INodeHealth health, IClusterDirectory directory) : Node.NodeBase
{
    public override async Task<NodeInfo> Info(NodeInfoRequest request, ServerCallContext context)
    {
        var principal = GrpcAuthInterceptor.Principal(context);
        var view = await directory.ViewAsync(null, context.CancellationToken);
        var info = new NodeInfo
        {
            NodeId = self.NodeId, Version = self.Version, AdvertiseAddr = self.AdvertiseAddr,
            StartedAtMicros = self.StartedAtMicros, ReplayDone = health.ReplayDone,
            ReplayProblem = health.ReplayProblem ?? "", ObjectStoreDegraded = health.ObjectStoreDegraded,
            ObjectStoreError = health.ObjectStoreError ?? "", Mode = view.Mode,
        };
        info.Roles.AddRange(self.Roles);
        if (!principal.IsRoot) return info;
        foreach (var n in view.Nodes)
        {
            var node = new Rpc.V1.ClusterNode
            {
                NodeId = n.NodeId, AdvertiseAddr = n.AdvertiseAddr, StartedAtMicros = n.StartedAtMicros,
                LastHeartbeatAtMicros = n.LastHeartbeatAtMicros,
            };
            node.Roles.AddRange(n.Roles.Split(','));
            info.Nodes.Add(node);
        }
        return info;
    }
}
