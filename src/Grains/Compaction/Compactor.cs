using System.Diagnostics;
using MoleSignal.Grains.Metadata;
using Microsoft.Extensions.Logging;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// One compactor run: every partition with small files that this node can lease is merged, a group of files at a
/// time (files taken in time order until the next would pass the target size), each group swapped for its merged
/// file in one metadata transaction that also checks the lease is still held.
/// </summary>
public sealed class Compactor(CompactionCatalog catalog, StreamMetaStore meta, FileIndex index, CompactorLeases leases,
    PartitionMerger merger, IBufferBoundary buffers, LiveSettings<CompactionSettings> settings, TimeProvider clock,
    ILogger<Compactor> log)
{
    public async Task RunOnceAsync(string holder, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var s = settings.Current;
        foreach (var candidate in await catalog.CandidatesAsync(s.TargetFileBytes, ct))
        {
            ct.ThrowIfCancellationRequested();
            var p = candidate.Partition;
            if (!await leases.TryTakeAsync(p, holder, s.LeaseTtl, ct)) continue;
            try
            {
                await MergePartitionAsync(p, holder, s, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                CompactionMetrics.Merges.WithLabels("failed").Inc();
                log.LogWarning("compacting {Partition}: {Error}", p, e.Message);
            }
            finally
            {
                await leases.ReleaseAsync(p, holder, CancellationToken.None);
            }
        }
        var pending = await catalog.CandidatesAsync(s.TargetFileBytes, ct);
        CompactionMetrics.PendingFiles.Set(pending.Sum(c => c.SmallFiles));
        CompactionMetrics.RunDuration.Observe(sw.Elapsed.TotalSeconds);
    }

    /// <summary>Groups of two or more files, in time order, each under the target size together.</summary>
    public static List<List<FileMeta>> Plan(IEnumerable<FileMeta> smallFiles, long targetBytes)
    {
        var groups = new List<List<FileMeta>>();
        var current = new List<FileMeta>();
        long bytes = 0;
        foreach (var f in smallFiles.OrderBy(f => f.MinTs).ThenBy(f => f.FileId, StringComparer.Ordinal))
        {
            if (current.Count > 0 && bytes + f.CompressedBytes > targetBytes)
            {
                if (current.Count >= 2) groups.Add(current);
                current = [];
                bytes = 0;
            }
            current.Add(f);
            bytes += f.CompressedBytes;
        }
        if (current.Count >= 2) groups.Add(current);
        return groups;
    }

    private async Task MergePartitionAsync(PartitionKey p, string holder, CompactionSettings s, CancellationToken ct)
    {
        // A dumped partition that gained small files merges whole: its manifest's rows come back first.
        if (!await index.RestoreAsync(p, Clock.NowMicros(clock) + Clock.Micros(s.DeleteDelay),
                (conn, tx, c) => leases.RenewAsync(conn, tx, p, holder, s.LeaseTtl, c), ct))
            return;
        var boundary = await buffers.FirstBufferedSeqAsync(p.Stream);
        var small = (await meta.DayFilesAsync(p, ct))
            .Where(f => f.CompressedBytes < s.TargetFileBytes && f.WalSeqEnd < boundary);
        foreach (var group in Plan(small, s.TargetFileBytes))
        {
            using var merging = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var renewal = RenewWhileMergingAsync(p, holder, s.LeaseTtl, merging);
            try
            {
                var output = await merger.MergeAsync(p, group, merging.Token);
                var deleteAfter = Clock.NowMicros(clock) + Clock.Micros(s.DeleteDelay);
                var swapped = await meta.ReplaceFilesAsync(p.Stream, group, [output], deleteAfter,
                    (conn, tx, c) => leases.RenewAsync(conn, tx, p, holder, s.LeaseTtl, c), merging.Token);
                if (!swapped)
                {
                    // Unless an earlier run committed this very merge, its objects belong to no file.
                    if (!(await meta.DayFilesAsync(p, ct)).Any(f => f.FileId == output.FileId))
                        await merger.DeleteObjectsAsync(output, ct);
                    CompactionMetrics.Merges.WithLabels("skipped").Inc();
                    log.LogInformation("compacting {Partition}: the lease or an input was lost; the merge is dropped",
                        p);
                    return;
                }
                CompactionMetrics.Merges.WithLabels("ok").Inc();
                CompactionMetrics.FilesMerged.Inc(group.Count);
                CompactionMetrics.BytesRead.Inc(group.Sum(f => f.CompressedBytes));
                CompactionMetrics.BytesWritten.Inc(output.CompressedBytes + output.IndexBytes);
            }
            finally
            {
                await merging.CancelAsync();
                await renewal;
            }
        }
    }

    /// <summary>Renews the lease every third of its TTL; a lost lease cancels the merge.</summary>
    private async Task RenewWhileMergingAsync(PartitionKey p, string holder, TimeSpan ttl,
        CancellationTokenSource merging)
    {
        using var timer = new PeriodicTimer(ttl / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(merging.Token))
                if (!await leases.RenewAsync(p, holder, ttl, merging.Token))
                {
                    log.LogWarning("compacting {Partition}: the lease lapsed; the merge stops", p);
                    await merging.CancelAsync();
                    return;
                }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
