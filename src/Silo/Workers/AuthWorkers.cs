using MoleSignal.Grains;
using MoleSignal.Grains.Audit;
using MoleSignal.Grains.Auth;
using MoleSignal.Grains.Tenancy;
using MoleSignal.Silo.Roles;

namespace MoleSignal.Silo.Workers;

/// <summary>
/// Every node: writes queued audit rows and adds its counted ingest bytes to <c>org_usage</c> every 2 s (and at
/// shutdown). Nodes of the compactor role also delete audit rows past <c>[auth].audit_retention_days</c>, hourly.
/// </summary>
public sealed class AuthWorkers(AuditLog audit, QuotaService quotas, LiveSettings<AuthSettings> settings, RoleSet roles,
    ILogger<AuthWorkers> log) : BackgroundService
{
    private static readonly TimeSpan UsageEvery = TimeSpan.FromSeconds(2), RetentionEvery = TimeSpan.FromHours(1);

    protected override Task ExecuteAsync(CancellationToken stopping)
    {
        var loops = new List<Task> { audit.WriteAsync(stopping), UsageAsync(stopping) };
        if (roles.Runs(RoleSet.Compactor)) loops.Add(RetentionAsync(stopping));
        return Task.WhenAll(loops);
    }

    private async Task UsageAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(UsageEvery, stopping);
                await quotas.FlushUsageAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogWarning("quota usage flush: {Error}", e.Message);
            }
        }
        try
        {
            await quotas.FlushUsageAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning("quota usage flush at shutdown: {Error}", e.Message);
        }
    }

    private async Task RetentionAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var n = await audit.ExpireAsync(settings.Current.AuditRetentionDays, stopping);
                if (n > 0) log.LogInformation("audit retention: deleted {Rows} rows", n);
                await Task.Delay(RetentionEvery, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("audit retention: {Error}", e.Message);
                await Task.Delay(UsageEvery, stopping).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }
}
