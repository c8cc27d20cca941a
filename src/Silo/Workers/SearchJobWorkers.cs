using MoleSignal.Grains.Jobs;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Workers;

/// <summary>
/// The search_jobs pool: [search_jobs].workers loops claim pending jobs (idle_poll_secs between empty polls) and
/// run them; lapsed leases go back to pending; a cleanup loop deletes expired jobs and their results every
/// cleanup_interval_secs.
/// </summary>
public sealed class SearchJobWorkers(SearchJobStore jobs, SearchJobRunner runner, SearchJobSettings settings, IObjectStore store,
    MoleSignalConfig config, ILogger<SearchJobWorkers> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stopping) =>
        Task.WhenAll(Enumerable.Range(0, settings.Workers).Select(_ => WorkAsync(stopping)).Append(CleanupAsync(stopping)));

    private async Task WorkAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var job = await jobs.ClaimAsync(config.Node.Id, settings.Lease, stopping);
                if (job is not null)
                {
                    await runner.RunAsync(job, config.Node.Id, settings.Lease, stopping);
                    continue;
                }
                await jobs.RequeueExpiredLeasesAsync(settings.MaxAttempts, stopping);
                await Task.Delay(settings.IdlePoll, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("search job worker: {Error}", e.Message);
                await Task.Delay(settings.IdlePoll, stopping).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task CleanupAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                foreach (var key in await jobs.DeleteExpiredAsync(stopping)) await store.DeleteAsync(key, stopping);
                await Task.Delay(settings.CleanupInterval, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("search job cleanup: {Error}", e.Message);
                await Task.Delay(settings.CleanupInterval, stopping).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }
}
