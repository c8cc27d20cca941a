using MoleSignal.Grains;
using MoleSignal.Grains.Alerts;
using MoleSignal.Grains.Reports;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Workers;

/// <summary>
/// The alert manager's loops: the evaluator every <c>eval_interval_secs</c>, the dispatcher every
/// <c>dispatch_interval_secs</c> and scheduled reports every <c>[reports].tick_secs</c> (each goes again at once
/// while it found work). Claims carry this node's id.
/// </summary>
public sealed class AlertManagerWorkers(AlertEvaluator evaluator, Dispatcher dispatcher, ReportRunner reports,
    LiveSettings<AlertSettings> settings, MoleSignalConfig config, ILogger<AlertManagerWorkers> log)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stopping) => Task.WhenAll(
        LoopAsync("alert evaluator", () => settings.Current.EvalInterval, evaluator.RunOnceAsync, stopping),
        LoopAsync("alert dispatcher", () => settings.Current.DispatchInterval, dispatcher.RunOnceAsync, stopping),
        LoopAsync("scheduled reports", () => TimeSpan.FromSeconds(config.Reports.TickSecs), reports.RunOnceAsync,
            stopping));

    private async Task LoopAsync(string name, Func<TimeSpan> interval, Func<string, CancellationToken, Task<int>> pass,
        CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (await pass(config.Node.Id, stopping) > 0) continue;
                await Task.Delay(interval(), stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("{Loop}: {Error}", name, e.Message);
                await Task.Delay(interval(), stopping).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }
}
