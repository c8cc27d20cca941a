using System.Data.Common;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>
/// The <c>dumped_partitions</c> table and the two transactions that move a partition's rows between
/// <c>file_meta</c> and a manifest: a dump (rows out, the manifest's row in) and a restore (the reverse).
/// </summary>
public sealed class DumpedPartitionStore(MetaStore store)
{
    /// <summary>How long a manifest written by a dump that never committed waits before it is deleted.</summary>
    public static readonly TimeSpan OrphanGrace = TimeSpan.FromDays(1);

    /// <summary>Partitions of days before <paramref name="coldBeforeDay"/> with live files and no manifest.</summary>
    public async Task<IReadOnlyList<PartitionKey>> DumpCandidatesAsync(long coldBeforeDay,
        CancellationToken ct = default)
    {
        var list = new List<PartitionKey>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT DISTINCT f.org, f.stream_type, f.stream, f.min_ts / {Partitions.MicrosPerDay} FROM file_meta f
            WHERE f.min_ts < @cold AND NOT EXISTS (SELECT 1 FROM dumped_partitions d WHERE d.org = f.org
                AND d.stream_type = f.stream_type AND d.stream = f.stream
                AND d.day = f.min_ts / {Partitions.MicrosPerDay})
            """, ("cold", Partitions.DayStart(coldBeforeDay)));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new PartitionKey(new StreamKey(r.GetString(0), r.GetString(1), r.GetString(2)),
                Convert.ToInt64(r.GetValue(3))));
        return list;
    }

    public Task<IReadOnlyList<DumpedPartition>> OfStreamAsync(StreamKey key, CancellationToken ct = default) =>
        ReadAsync(key, null, ct);

    /// <summary>The partition's manifest row; null when its rows are live. Asked before every merge and expiry.</summary>
    public async Task<DumpedPartition?> GetAsync(PartitionKey p, CancellationToken ct = default) =>
        (await ReadAsync(p.Stream, p.Day, ct)).FirstOrDefault();

    private async Task<IReadOnlyList<DumpedPartition>> ReadAsync(StreamKey key, long? day, CancellationToken ct)
    {
        var list = new List<DumpedPartition>();
        await using var conn = await store.OpenAsync(ct);
        (string, object?)[] args = day is null
            ? [("o", key.Org), ("t", key.Type), ("s", key.Stream)]
            : [("o", key.Org), ("t", key.Type), ("s", key.Stream), ("d", day)];
        await using var cmd = MetaStore.Command(conn,
            $"SELECT {StreamMetaStore.DumpColumns} FROM dumped_partitions " +
            "WHERE org = @o AND stream_type = @t AND stream = @s" + (day is null ? "" : " AND day = @d"), args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(StreamMetaStore.ReadDump(key, r, 0));
        return list;
    }

    /// <summary>
    /// Before a manifest is written: it is queued for deletion after <see cref="OrphanGrace"/>, so a dump that dies
    /// before its commit leaves no object behind for good; the commit takes it off the queue.
    /// </summary>
    public async Task GuardAsync(string manifestKey, long nowMicros, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await StreamMetaStore.QueueDeletionAsync(conn, tx, manifestKey, nowMicros + Clock.Micros(OrphanGrace), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// The dump's commit: <paramref name="files"/> leave <c>file_meta</c> and the manifest's row takes their place,
    /// in one transaction. False, and nothing changed, when <paramref name="precondition"/> fails or a file is no
    /// longer live (merged, expired or deleted meanwhile).
    /// </summary>
    public async Task<bool> CommitDumpAsync(PartitionKey p, IReadOnlyList<FileMeta> files, string manifestKey,
        long nowMicros,
        Func<DbConnection, DbTransaction, CancellationToken, Task<bool>> precondition, CancellationToken ct = default)
    {
        var key = p.Stream;
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await precondition(conn, tx, ct)) return await RollBack(tx, ct);
        var removed = 0;
        foreach (var f in files)
            removed += await MetaStore.ExecuteInAsync(conn, tx,
                "DELETE FROM file_meta WHERE org = @o AND stream_type = @t AND stream = @s AND file_id = @id", ct,
                ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("id", f.FileId));
        if (removed != files.Count) return await RollBack(tx, ct);
        await MetaStore.ExecuteInAsync(conn, tx, """
            INSERT INTO dumped_partitions (org, stream_type, stream, day, manifest_key, files, rows, min_ts, max_ts,
                original_bytes, compressed_bytes, index_bytes, wal_seq_start, wal_seq_end, dumped_at_micros)
            VALUES (@o, @t, @s, @d, @k, @n, @rows, @min, @max, @ob, @cb, @ib, @ws, @we, @now)
            """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("d", p.Day), ("k", manifestKey),
            ("n", (long)files.Count), ("rows", files.Sum(f => f.Rows)), ("min", files.Min(f => f.MinTs)),
            ("max", files.Max(f => f.MaxTs)), ("ob", files.Sum(f => f.OriginalBytes)),
            ("cb", files.Sum(f => f.CompressedBytes)), ("ib", files.Sum(f => f.IndexBytes)),
            ("ws", files.Min(f => f.WalSeqStart)), ("we", files.Max(f => f.WalSeqEnd)), ("now", nowMicros));
        await MetaStore.ExecuteInAsync(conn, tx, "DELETE FROM file_deletions WHERE object_key = @k", ct,
            ("k", manifestKey));
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// A restore: the manifest's <paramref name="files"/> return to <c>file_meta</c> and its row goes, in one
    /// transaction; the manifest object is queued for deletion after <paramref name="deleteAfterMicros"/> (a query
    /// that began before may read it). False, and nothing changed, when the precondition fails or the partition is no
    /// longer dumped under that manifest.
    /// </summary>
    public async Task<bool> RestoreAsync(DumpedPartition d, IReadOnlyList<FileMeta> files, long deleteAfterMicros,
        Func<DbConnection, DbTransaction, CancellationToken, Task<bool>> precondition, CancellationToken ct = default)
    {
        var key = d.Partition.Stream;
        var now = Clock.NowMicros(TimeProvider.System);
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await precondition(conn, tx, ct)) return await RollBack(tx, ct);
        var gone = await MetaStore.ExecuteInAsync(conn, tx, """
            DELETE FROM dumped_partitions
            WHERE org = @o AND stream_type = @t AND stream = @s AND day = @d AND manifest_key = @k
            """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("d", d.Partition.Day), ("k", d.ManifestKey));
        if (gone != 1) return await RollBack(tx, ct);
        foreach (var f in files) await StreamMetaStore.UpsertFileAsync(conn, tx, key, f, now, ct);
        await StreamMetaStore.QueueDeletionAsync(conn, tx, d.ManifestKey, deleteAfterMicros, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private static async Task<bool> RollBack(DbTransaction tx, CancellationToken ct)
    {
        await tx.RollbackAsync(ct);
        return false;
    }
}
