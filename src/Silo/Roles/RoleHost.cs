namespace MoleSignal.Silo.Roles;

/// <summary>Announces each role this process runs; the roles' work is in their own hosted services.</summary>
public sealed class RoleHost(RoleSet roles, ILogger<RoleHost> log) : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        foreach (var role in roles.Names) log.LogInformation("role {Role} started", role);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
