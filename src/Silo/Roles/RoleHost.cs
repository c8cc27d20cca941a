using MoleSignal.Grains.Cluster;

namespace MoleSignal.Silo.Roles;

/// <summary>
/// Starts each role's foreground work. Without the ingester role there is no WAL to replay, so replay is
/// done at once (the spec's "other roles bypass it").
/// </summary>
public sealed class RoleHost(RoleSet roles, NodeHealth health, ILogger<RoleHost> log) : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        foreach (var role in roles.Names) log.LogInformation("role {Role} started", role);
        // The ingester's WAL replay marks replay done when it lands; until then there is nothing to replay.
        health.MarkReplayDone();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
