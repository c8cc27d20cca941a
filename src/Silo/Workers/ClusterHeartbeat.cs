using MoleSignal.Grains.Abstractions.Cluster;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Metadata;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;

namespace MoleSignal.Silo.Workers;

/// <summary>
/// Cluster mode only (Postgres metadata and roles other than standalone): beats into cluster_nodes at once and
/// then every heartbeat_interval_secs, and sweeps rows silent for sweep_after_secs every sweep_interval_secs.
/// Standalone never touches the table.
/// </summary>
public sealed class ClusterHeartbeat(ClusterRegistry registry, LiveConfig config, RoleSet roles, MetaStore meta, ILogger<ClusterHeartbeat> log)
    : BackgroundService, IClusterDirectory
{
    private readonly long _startedAt = ClusterRegistry.NowMicros;

    public bool ClusterMode => Roles.ClusterMode.IsOn(meta, roles);

    protected override Task ExecuteAsync(CancellationToken stopping) =>
        ClusterMode ? Task.WhenAll(BeatAsync(stopping), SweepAsync(stopping)) : Task.CompletedTask;

    private ClusterNode Self() =>
        new(config.Current.Node.Id, roles.MetadataValue, config.Current.Cluster.AdvertiseAddr, _startedAt, ClusterRegistry.NowMicros);

    private async Task BeatAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await registry.HeartbeatAsync(Self(), stopping);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                log.LogWarning("heartbeat failed: {Error}", e.Message);
            }
            await Delay(TimeSpan.FromSeconds(config.Current.Cluster.HeartbeatIntervalSecs), stopping);
        }
    }

    private async Task SweepAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await Delay(TimeSpan.FromSeconds(config.Current.Cluster.SweepIntervalSecs), stopping);
            try
            {
                var swept = await registry.SweepAsync(TimeSpan.FromSeconds(config.Current.Cluster.SweepAfterSecs), stopping);
                if (swept > 0) log.LogInformation("swept {Count} stale cluster_nodes rows", swept);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                log.LogWarning("cluster_nodes sweep failed: {Error}", e.Message);
            }
        }
    }

    private static Task Delay(TimeSpan t, CancellationToken ct) => Task.Delay(t, ct).ContinueWith(_ => { }, CancellationToken.None);

    public async Task<ClusterView> ViewAsync(string? role, CancellationToken ct)
    {
        var nodes = ClusterMode
            ? await registry.LiveAsync(TimeSpan.FromSeconds(config.Current.Cluster.PeerTimeoutSecs), role, ct)
            : [Self()]; // standalone: only itself, without touching cluster_nodes
        return new ClusterView(ClusterMode ? "cluster" : "standalone", nodes, []);
    }
}
