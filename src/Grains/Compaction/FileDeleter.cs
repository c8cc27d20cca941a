using MoleSignal.Grains.Query;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// Deletes the objects of replaced and expired files once their delay has passed, skipping any a query on this
/// node still has pinned (the delay, longer than a query may run, covers queries of other nodes).
/// </summary>
public sealed class FileDeleter(CompactionCatalog catalog, IObjectStore store, ObjectFiles files, TimeProvider clock)
{
    private const int Batch = 500;

    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var deleted = 0;
        var now = Clock.NowMicros(clock);
        foreach (var key in await catalog.DueDeletionsAsync(now, Batch, ct))
        {
            if (files.IsPinned(key)) continue;
            await store.DeleteAsync(key, ct);
            await catalog.DequeueDeletionAsync(key, ct);
            deleted++;
        }
        CompactionMetrics.DeletedObjects.Inc(deleted);
        return deleted;
    }
}
