using MoleSignal.Grains;
using MoleSignal.Grains.Compaction;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Workers;

/// <summary>
/// The compactor's loop, every <c>[compactor].interval_secs</c>: expire days past retention, merge small files,
/// then delete the objects of replaced and expired files whose delay has passed. Leases carry this node's id.
/// </summary>
public sealed class CompactorWorkers(Compactor compactor, RetentionSweeper retention, FileDeleter deleter,
    LiveSettings<CompactionSettings> settings, MoleSignalConfig config, ILogger<CompactorWorkers> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.Current.Interval, stopping);
                await retention.RunOnceAsync(config.Node.Id, stopping);
                await compactor.RunOnceAsync(config.Node.Id, stopping);
                while (await deleter.RunOnceAsync(stopping) > 0) { }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("compactor: {Error}", e.Message);
            }
        }
    }
}
