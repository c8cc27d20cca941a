using MoleSignal.Grains;
using MoleSignal.Grains.Compaction;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Workers;

/// <summary>
/// The file_meta_dumper's loop on compactor nodes, every <c>[storage.file_meta_dump].interval_secs</c> while
/// <c>enabled</c> (read at each turn, so a reload switches it). Its leases carry this node's id with
/// <c>/dump</c>: a lease is the holder's to renew, so the dumper and this node's compactor must not share one.
/// </summary>
public sealed class FileMetaDumpWorker(FileMetaDumper dumper, LiveSettings<FileMetaDumpSettings> settings,
    MoleSignalConfig config) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.Current.Interval, stopping);
                if (settings.Current.Enabled) await dumper.RunOnceAsync(config.Node.Id + "/dump", stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
