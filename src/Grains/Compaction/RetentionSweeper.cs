using MoleSignal.Grains.Metadata;
using Microsoft.Extensions.Logging;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// Deletes whole days older than a stream's retention (<see cref="RetentionPolicy"/>); nothing younger is trimmed.
/// The day's files leave <c>file_meta</c> in one transaction under the partition's lease; their objects are deleted
/// later, like replaced ones.
/// </summary>
public sealed class RetentionSweeper(CompactionCatalog catalog, StreamMetaStore meta, FileIndex index,
    StreamSettingsStore streamSettings,
    CompactorLeases leases, RetentionPolicy policy, LiveSettings<CompactionSettings> settings, TimeProvider clock,
    ILogger<RetentionSweeper> log)
{
    public async Task RunOnceAsync(string holder, CancellationToken ct)
    {
        var s = settings.Current;
        var now = Clock.NowMicros(clock);
        var overrides = await streamSettings.RetentionOverridesAsync(ct);
        foreach (var (stream, oldest) in await catalog.StreamsAsync(ct))
        {
            int? own = overrides.TryGetValue(stream, out var d) ? d : null;
            var firstKept = RetentionPolicy.FirstKeptDay(now, policy.Days(own));
            if (oldest >= firstKept) continue;
            foreach (var day in await catalog.DaysBeforeAsync(stream, firstKept, ct))
            {
                var p = new PartitionKey(stream, day);
                if (!await leases.TryTakeAsync(p, holder, s.LeaseTtl, ct)) continue;
                try
                {
                    var deleteAfter = now + Clock.Micros(s.DeleteDelay);
                    // A dumped day expires like a live one: its manifest's rows come back, then all go.
                    if (!await index.RestoreAsync(p, deleteAfter,
                            (conn, tx, c) => leases.RenewAsync(conn, tx, p, holder, s.LeaseTtl, c), ct))
                        continue;
                    var files = await meta.DayFilesAsync(p, ct);
                    if (await meta.ReplaceFilesAsync(stream, files, [], deleteAfter,
                            (conn, tx, c) => leases.RenewAsync(conn, tx, p, holder, s.LeaseTtl, c), ct))
                    {
                        CompactionMetrics.ExpiredFiles.Inc(files.Count);
                        log.LogInformation("retention: {Partition} expired ({Files} files)", p, files.Count);
                    }
                }
                finally
                {
                    await leases.ReleaseAsync(p, holder, CancellationToken.None);
                }
            }
        }
    }
}
