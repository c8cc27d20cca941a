using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// Moves the file rows of cold partitions out of <c>file_meta</c> into one manifest object each, so the table holds
/// only recent days. Per partition, under its compactor lease: the manifest's key is queued for deletion a day out
/// (an orphan if this dies before the commit), the manifest written, then one transaction deletes the rows, inserts
/// the manifest's <c>dumped_partitions</c> row and takes the key off the queue. A crash anywhere leaves the rows in
/// <c>file_meta</c> or in the manifest, never both and never neither.
/// </summary>
public sealed class FileMetaDumper(DumpedPartitionStore dumps, StreamMetaStore meta, ManifestStore manifests,
    CompactorLeases leases, LiveSettings<FileMetaDumpSettings> settings, LiveSettings<CompactionSettings> compaction,
    TimeProvider clock, ILogger<FileMetaDumper> log)
{
    /// <summary>One run; returns the partitions dumped.</summary>
    public async Task<int> RunOnceAsync(string holder, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var dumped = 0;
        try
        {
            var today = Partitions.DayOf(Clock.NowMicros(clock));
            foreach (var p in await dumps.DumpCandidatesAsync(settings.Current.ColdBeforeDay(today), ct))
                if (await DumpAsync(p, holder, ct)) dumped++;
            CompactionMetrics.DumpRuns.WithLabels("ok").Inc();
            return dumped;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            CompactionMetrics.DumpRuns.WithLabels("failed").Inc();
            log.LogWarning("file_meta_dumper: {Error}", e.Message);
            return dumped;
        }
        finally
        {
            CompactionMetrics.DumpDuration.Observe(sw.Elapsed.TotalSeconds);
        }
    }

    private async Task<bool> DumpAsync(PartitionKey p, string holder, CancellationToken ct)
    {
        var ttl = compaction.Current.LeaseTtl;
        if (!await leases.TryTakeAsync(p, holder, ttl, ct)) return false;
        try
        {
            var files = await meta.DayFilesAsync(p, ct);
            if (files.Count == 0) return false;
            var now = Clock.NowMicros(clock);
            var key = ManifestStore.KeyFor(p, now);
            await dumps.GuardAsync(key, now, ct);
            await manifests.WriteAsync(key, files, ct);
            if (!await dumps.CommitDumpAsync(p, files, key, now,
                    (conn, tx, c) => leases.RenewAsync(conn, tx, p, holder, ttl, c), ct))
                return false; // a file merged or expired meanwhile: the guard deletes the manifest later
            CompactionMetrics.DumpRows.Inc(files.Count);
            log.LogInformation("file_meta_dumper: {Partition} ({Files} files) moved to {Manifest}", p, files.Count,
                key);
            return true;
        }
        finally
        {
            await leases.ReleaseAsync(p, holder, CancellationToken.None);
        }
    }
}
