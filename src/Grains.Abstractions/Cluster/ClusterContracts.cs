namespace MoleSignal.Grains.Abstractions.Cluster;

public sealed record ClusterNode(string NodeId, string Roles, string AdvertiseAddr, long StartedAtMicros, long LastHeartbeatAtMicros);

public sealed record SiloView(string Address, string Name, string Status);

/// <summary>Live nodes from <c>cluster_nodes</c> (cluster mode) or this node alone (standalone), beside Orleans' membership.</summary>
public sealed record ClusterView(string Mode, IReadOnlyList<ClusterNode> Nodes, IReadOnlyList<SiloView> Silos);

public interface IClusterDirectory
{
    Task<ClusterView> ViewAsync(string? role, CancellationToken ct);
}

/// <summary>This process: its node id, the roles it runs, the address peers reach its gRPC port at, its version
/// and start time.</summary>
public sealed record NodeSelf(string NodeId, IReadOnlyList<string> Roles, string AdvertiseAddr, string Version,
    long StartedAtMicros);
