using MoleSignal.Grains.Abstractions.Cluster;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Cluster;

/// <summary>
/// The spec's <c>cluster_nodes</c>: heartbeats upsert by node_id; the registry returns nodes that beat within the
/// peer timeout, optionally by role; the sweeper deletes rows silent for longer than its window.
/// </summary>
public sealed class ClusterRegistry(MetaStore store)
{
    public static long NowMicros => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    public Task HeartbeatAsync(ClusterNode node, CancellationToken ct) =>
        store.ExecuteAsync("""
            INSERT INTO cluster_nodes (node_id, role, advertise_addr, started_at_micros, last_heartbeat_at_micros)
            VALUES (@id, @role, @addr, @started, @beat)
            ON CONFLICT (node_id) DO UPDATE SET role = excluded.role, advertise_addr = excluded.advertise_addr,
                started_at_micros = excluded.started_at_micros, last_heartbeat_at_micros = excluded.last_heartbeat_at_micros
            """, ct, ("id", node.NodeId), ("role", node.Roles), ("addr", node.AdvertiseAddr), ("started", node.StartedAtMicros), ("beat", node.LastHeartbeatAtMicros));

    /// <param name="role">Only nodes running this role (the column holds every role, comma-joined; standalone runs all).</param>
    public async Task<List<ClusterNode>> LiveAsync(TimeSpan peerTimeout, string? role, CancellationToken ct)
    {
        var nodes = new List<ClusterNode>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            SELECT node_id, role, advertise_addr, started_at_micros, last_heartbeat_at_micros FROM cluster_nodes
            WHERE last_heartbeat_at_micros >= @since ORDER BY node_id
            """, ("since", NowMicros - (long)peerTimeout.TotalMicroseconds));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var node = new ClusterNode(r.GetString(0), r.GetString(1), r.GetString(2), Convert.ToInt64(r.GetValue(3)), Convert.ToInt64(r.GetValue(4)));
            var roles = node.Roles.Split(',');
            if (role is null || roles.Contains(role) || roles.Contains("standalone")) nodes.Add(node);
        }
        return nodes;
    }

    public Task<int> SweepAsync(TimeSpan silentFor, CancellationToken ct) =>
        store.ExecuteAsync("DELETE FROM cluster_nodes WHERE last_heartbeat_at_micros < @before", ct,
            ("before", NowMicros - (long)silentFor.TotalMicroseconds));
}
