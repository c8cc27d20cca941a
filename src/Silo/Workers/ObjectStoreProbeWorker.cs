using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Workers;

/// <summary>The periodic store probe; the interval is re-read each round so a config reload applies.</summary>
public sealed class ObjectStoreProbeWorker(ObjectStoreProbe probe, LiveConfig config, ILogger<ObjectStoreProbeWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(config.Current.Store.Object.HealthProbeIntervalSecs), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var wasDegraded = probe.Degraded;
            if (!await probe.ProbeAsync(ct))
                log.LogWarning("object store probe failed ({Failures} in a row): {Error}", probe.ConsecutiveFailures, probe.LastError);
            if (probe.Degraded != wasDegraded)
                log.Log(probe.Degraded ? LogLevel.Error : LogLevel.Information, "object store {State}", probe.Degraded ? "degraded" : "recovered");
        }
    }
}
