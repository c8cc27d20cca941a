using System.Data.Common;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>
/// A stream's data files wherever their rows live: <c>file_meta</c> for warm partitions, manifests for dumped ones.
/// Queries, recovery and the compactor read files here, so a dumped partition answers exactly as before.
/// </summary>
public sealed class FileIndex(StreamMetaStore meta, DumpedPartitionStore dumps, ManifestStore manifests)
{
    /// <summary>The stream's files overlapping [minTs, maxTs], in <c>min_ts</c> order.</summary>
    public async Task<IReadOnlyList<FileMeta>> FilesAsync(StreamKey key, long minTs, long maxTs,
        CancellationToken ct = default)
    {
        var snapshot = await meta.SnapshotAsync(key, minTs, maxTs, ct);
        if (snapshot.Dumped.Count == 0) return snapshot.Live;
        var all = new List<FileMeta>(snapshot.Live);
        foreach (var d in snapshot.Dumped)
        foreach (var f in await manifests.ReadAsync(d, ct))
            if (f.MaxTs >= minTs && f.MinTs <= maxTs) all.Add(f);
        all.Sort((a, b) => a.MinTs.CompareTo(b.MinTs));
        return all;
    }

    /// <summary>The WAL runs of every file of the stream, live or dumped, that overlap [first, last].</summary>
    public async Task<IReadOnlyList<(long Start, long End)>> FlushedRangesAsync(StreamKey key, long first, long last,
        CancellationToken ct = default)
    {
        var (runs, dumped) = await meta.FlushedRangesAsync(key, first, last, ct);
        if (dumped.Count == 0) return runs;
        var all = new List<(long Start, long End)>(runs);
        foreach (var d in dumped)
        foreach (var f in await manifests.ReadAsync(d, ct))
        foreach (var run in WalRanges.Of(f.WalSeqStart, f.WalSeqEnd, f.WalRanges))
            if (run.End >= first && run.Start <= last) all.Add(run);
        return all;
    }

    /// <summary>
    /// Brings a dumped partition's rows back into <c>file_meta</c> (for a merge or an expiry, which work on live
    /// rows), its manifest queued for deletion after <paramref name="deleteAfterMicros"/>. True when the partition is
    /// live now (it was not dumped, or the restore committed).
    /// </summary>
    public async Task<bool> RestoreAsync(PartitionKey p, long deleteAfterMicros,
        Func<DbConnection, DbTransaction, CancellationToken, Task<bool>> precondition, CancellationToken ct = default)
    {
        if (await dumps.GetAsync(p, ct) is not { } d) return true;
        return await dumps.RestoreAsync(d, await manifests.ReadAsync(d, ct), deleteAfterMicros, precondition, ct);
    }

    /// <summary>The objects of every file the stream's manifests list (what deleting the stream must delete).</summary>
    public async Task<string[]> DumpedObjectsAsync(StreamKey key, CancellationToken ct = default)
    {
        var keys = new List<string>();
        foreach (var d in await dumps.OfStreamAsync(key, ct))
        foreach (var f in await manifests.ReadAsync(d, ct))
        {
            keys.Add(f.ObjectKey);
            if (f.IndexKey.Length > 0) keys.Add(f.IndexKey);
        }
        return keys.ToArray();
    }
}
