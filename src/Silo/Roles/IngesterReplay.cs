using System.Diagnostics;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Ingest;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Roles;

/// <summary>
/// The ingester's startup: the WAL segments a previous run left (set aside under <c>{wal.dir}/.recovery</c>
/// before the silo started) are written into data files on this node, whichever ingester owns their streams
/// now; then replay is done and /readyz turns 200. Runs in the background so the HTTP port answers (503)
/// meanwhile. Without the ingester role, replay is done at once.
/// </summary>
public sealed class IngesterReplay(RoleSet roles, NodeHealth health, LiveConfig config, WalRecovery recovery, ILogger<IngesterReplay> log)
    : BackgroundService
{
    /// <summary>Called before the silo starts, so no grain activation can open these WAL directories.</summary>
    public static void SetAside(RoleSet roles, MoleSignalConfig config)
    {
        if (roles.Runs(RoleSet.Ingester)) WalRecovery.SetAside(config.Wal.Dir);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        if (!roles.Runs(RoleSet.Ingester))
        {
            health.MarkReplayDone();
            return;
        }
        await Task.Yield();
        var sw = Stopwatch.StartNew();
        var pending = WalRecovery.Pending(config.Current.Wal.Dir);
        long bytes = 0, records = 0;
        while (pending.Count > 0 && !stopping.IsCancellationRequested)
        {
            var failed = 0;
            string? problem = null;
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, config.Current.Ingester.FlushParallelism), CancellationToken = stopping },
                async (p, ct) =>
                {
                    try
                    {
                        var r = await recovery.RecoverAsync(p.Key, p.Dir, ct);
                        Interlocked.Add(ref bytes, r.Bytes);
                        Interlocked.Add(ref records, r.Records);
                    }
                    catch (Exception e) when (!ct.IsCancellationRequested)
                    {
                        // The segments stay; the next round (or the next start) tries again.
                        Interlocked.Increment(ref failed);
                        problem = $"{p.Key}: {e.GetBaseException().Message}";
                        log.LogWarning("wal recovery of {Stream} failed, retrying: {Error}", p.Key, e.Message);
                    }
                });
            pending = WalRecovery.Pending(config.Current.Wal.Dir);
            // Not ready while acknowledged records are only in set-aside segments: queries would miss them. An
            // I/O failure (store down) is retried here until it clears; rows that cannot be encoded were
            // quarantined by the recovery and do not come back.
            if (problem is not null) health.ReplayFailed(problem);
            if (failed > 0) await Task.Delay(TimeSpan.FromSeconds(2), stopping).ContinueWith(_ => { }, CancellationToken.None);
        }
        if (pending.Count == 0) health.MarkReplayDone();
        var secs = sw.Elapsed.TotalSeconds;
        log.LogInformation("wal replay done: {Records} records, {MiB:F1} MiB in {Secs:F2}s ({Rate:F1} MiB/s)",
            records, bytes / 1048576.0, secs, secs > 0 ? bytes / 1048576.0 / secs : 0);
    }
}
