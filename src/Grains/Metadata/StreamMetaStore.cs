using System.Data.Common;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>The <c>streams</c>, <c>stream_schema_history</c> and <c>file_meta</c> tables. Same SQL on both dialects.</summary>
public sealed class StreamMetaStore(MetaStore store)
{
    internal static long NowMicros => Clock.NowMicros(TimeProvider.System);

    public async Task<StreamRecord?> GetAsync(StreamKey key, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "SELECT schema_json, schema_version, flushed_seq FROM streams WHERE org = @o AND stream_type = @t AND stream = @s",
            ("o", key.Org), ("t", key.Type), ("s", key.Stream));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        return new StreamRecord(key.Org, key.Type, key.Stream, ParseSchema(r.GetString(0)), Convert.ToInt32(r.GetValue(1)), Convert.ToInt64(r.GetValue(2)));
    }

    /// <summary>Creates the stream's row if missing; returns the row.</summary>
    public async Task<StreamRecord> EnsureAsync(StreamKey key, CancellationToken ct = default)
    {
        var now = NowMicros;
        await using (var conn = await store.OpenAsync(ct))
        await using (var cmd = MetaStore.Command(conn, """
            INSERT INTO streams (org, stream_type, stream, schema_json, schema_version, flushed_seq, created_at_micros, updated_at_micros)
            VALUES (@o, @t, @s, '[]', 0, 0, @n, @n)
            ON CONFLICT (org, stream_type, stream) DO NOTHING
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("n", now)))
            await cmd.ExecuteNonQueryAsync(ct);
        return (await GetAsync(key, ct))!;
    }

    /// <summary>Takes the stream's next WAL epoch, creating the stream's row (epoch 1) if missing; one statement.</summary>
    public async Task<long> NextWalEpochAsync(StreamKey key, CancellationToken ct = default)
    {
        var now = NowMicros;
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            INSERT INTO streams (org, stream_type, stream, schema_json, schema_version, flushed_seq, created_at_micros, updated_at_micros, wal_epoch)
            VALUES (@o, @t, @s, '[]', 0, 0, @n, @n, 1)
            ON CONFLICT (org, stream_type, stream) DO UPDATE SET wal_epoch = streams.wal_epoch + 1
            RETURNING wal_epoch
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("n", now));
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    /// <summary>
    /// The WAL runs of the stream's live data files (a merged file's runs one by one) that overlap [first, last],
    /// and, in the same snapshot, the dumped partitions whose WAL hull does (their manifests hold the rest).
    /// </summary>
    public async Task<(IReadOnlyList<(long Start, long End)> Runs, IReadOnlyList<DumpedPartition> Dumped)>
        FlushedRangesAsync(StreamKey key, long first, long last, CancellationToken ct = default)
    {
        var ranges = new List<(long, long)>();
        var dumped = new List<DumpedPartition>();
        await using var conn = await store.OpenAsync(ct);
        // One statement, so a dump or restore committing meanwhile cannot hide a file from both halves.
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT DISTINCT 0, wal_seq_start, wal_seq_end, wal_ranges, {NoDump} FROM file_meta
            WHERE {OfStream} AND wal_seq_end >= @first AND wal_seq_start <= @last
            UNION ALL
            SELECT 1, wal_seq_start, wal_seq_end, '', {DumpColumns} FROM dumped_partitions
            WHERE {OfStream} AND wal_seq_end >= @first AND wal_seq_start <= @last
            """, [.. Of(key), ("first", first), ("last", last)]);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            if (Convert.ToInt32(r.GetValue(0)) == 1)
            {
                dumped.Add(ReadDump(key, r, 4));
                continue;
            }
            var (start, end) = (Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2)));
            foreach (var run in WalRanges.Of(start, end, r.GetString(3)))
                if (run.End >= first && run.Start <= last) ranges.Add(run);
        }
        return (ranges, dumped);
    }

    /// <summary>
    /// Records flushed files, the stream's schema (a new version when it changed), its flushed WAL seq and the
    /// idempotency keys of the flushed entries (dropping the stream's keys older than <paramref name="keysCut"/>)
    /// in one transaction.
    /// </summary>
    public async Task CommitFlushAsync(StreamKey key, IReadOnlyList<FileMeta> files,
        IReadOnlyList<SchemaField> schema, long flushedSeq, CancellationToken ct = default,
        IReadOnlyList<IngestKey>? keys = null, long keysCut = 0)
    {
        var now = NowMicros;
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var f in files) await UpsertFileAsync(conn, tx, key, f, now, ct);
        if (keys is not null) await IngestKeyStore.InsertAsync(conn, tx, key, keys, keysCut, ct);

        string? currentJson = null;
        var version = 0;
        await using (var cmd = MetaStore.Command(conn,
            "SELECT schema_json, schema_version FROM streams WHERE org = @o AND stream_type = @t AND stream = @s",
            ("o", key.Org), ("t", key.Type), ("s", key.Stream)))
        {
            cmd.Transaction = tx;
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (await r.ReadAsync(ct))
            {
                currentJson = r.GetString(0);
                version = Convert.ToInt32(r.GetValue(1));
            }
        }
        // A stream flushes several runs at once and they may commit out of order: the stored schema only widens.
        if (currentJson is not null)
        {
            var merged = new StreamSchema();
            merged.Load(ParseSchema(currentJson));
            merged.Load(schema);
            schema = merged.ToStored();
        }
        var json = SchemaJson(schema);
        if (currentJson is null)
        {
            version = 1;
            await MetaStore.ExecuteInAsync(conn, tx, """
                INSERT INTO streams (org, stream_type, stream, schema_json, schema_version, flushed_seq, created_at_micros, updated_at_micros)
                VALUES (@o, @t, @s, @j, 1, @f, @n, @n)
                """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("j", json), ("f", flushedSeq), ("n", now));
            await InsertHistory(conn, tx, key, version, json, now, ct);
        }
        else
        {
            var changed = currentJson != json;
            if (changed) version++;
            await MetaStore.ExecuteInAsync(conn, tx, """
                UPDATE streams SET schema_json = @j, schema_version = @v, updated_at_micros = @n,
                    flushed_seq = CASE WHEN flushed_seq > @f THEN flushed_seq ELSE @f END
                WHERE org = @o AND stream_type = @t AND stream = @s
                """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("j", json), ("v", version), ("f", flushedSeq), ("n", now));
            if (changed) await InsertHistory(conn, tx, key, version, json, now, ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Replaces <paramref name="inputs"/> by <paramref name="outputs"/> (none: the inputs expire) in one transaction:
    /// readers see the old files or the new ones, never both or neither. The inputs' objects are queued for deletion
    /// after <paramref name="deleteAfterMicros"/>. Nothing changes, and false comes back, when
    /// <paramref name="precondition"/> fails (a lapsed lease) or an input is no longer live.
    /// </summary>
    public async Task<bool> ReplaceFilesAsync(StreamKey key, IReadOnlyList<FileMeta> inputs,
        IReadOnlyList<FileMeta> outputs,
        long deleteAfterMicros, Func<DbConnection, DbTransaction, CancellationToken, Task<bool>>? precondition = null,
        CancellationToken ct = default)
    {
        var now = NowMicros;
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (precondition is not null && !await precondition(conn, tx, ct))
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        var removed = 0;
        foreach (var f in inputs)
        {
            await using var cmd = MetaStore.Command(conn,
                "DELETE FROM file_meta WHERE org = @o AND stream_type = @t AND stream = @s AND file_id = @id",
                ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("id", f.FileId));
            cmd.Transaction = tx;
            removed += await cmd.ExecuteNonQueryAsync(ct);
        }
        if (removed != inputs.Count)
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        foreach (var f in outputs) await UpsertFileAsync(conn, tx, key, f, now, ct);
        foreach (var f in inputs)
        foreach (var objectKey in new[] { f.ObjectKey, f.IndexKey })
            await QueueDeletionAsync(conn, tx, objectKey, deleteAfterMicros, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Removes a stream from the metadata in one transaction: its live files and dumped partitions (their objects,
    /// the manifests' and <paramref name="dumpedObjects"/>, the files those manifests list, queued for deletion after
    /// <paramref name="deleteAfterMicros"/>), schema history, settings and row. Returns the files removed.
    /// </summary>
    public async Task<long> DeleteStreamAsync(StreamKey key, long deleteAfterMicros,
        IReadOnlyCollection<string> dumpedObjects, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var of = Of(key);
        await MetaStore.ExecuteInAsync(conn, tx, $"""
            INSERT INTO file_deletions (object_key, delete_after_micros)
            SELECT k, @d FROM (SELECT object_key AS k FROM file_meta WHERE {OfStream}
                UNION SELECT index_key FROM file_meta WHERE {OfStream} AND index_key <> ''
                UNION SELECT manifest_key FROM dumped_partitions WHERE {OfStream}) AS keys WHERE true
            ON CONFLICT (object_key) DO UPDATE SET delete_after_micros = excluded.delete_after_micros
            """, ct, [.. of, ("d", deleteAfterMicros)]);
        foreach (var objectKey in dumpedObjects) await QueueDeletionAsync(conn, tx, objectKey, deleteAfterMicros, ct);
        var files = 0L;
        await using (var cmd = MetaStore.Command(conn,
                         $"SELECT COALESCE(SUM(files), 0) FROM dumped_partitions WHERE {OfStream}", of))
        {
            cmd.Transaction = tx;
            files += Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
        }
        string[] tables =
            ["file_meta", "dumped_partitions", "stream_schema_history", "stream_settings", "ingest_keys", "streams"];
        foreach (var table in tables)
        {
            var n = await MetaStore.ExecuteInAsync(conn, tx, $"DELETE FROM {table} WHERE {OfStream}", ct, of);
            if (table == "file_meta") files += n;
        }
        await tx.CommitAsync(ct);
        return files;
    }

    /// <summary>Queues an object for deletion after <paramref name="afterMicros"/> (queued again: the new
    /// time).</summary>
    internal static Task QueueDeletionAsync(DbConnection conn, DbTransaction tx, string objectKey, long afterMicros,
        CancellationToken ct) => MetaStore.ExecuteInAsync(conn, tx, """
            INSERT INTO file_deletions (object_key, delete_after_micros) VALUES (@k, @d)
            ON CONFLICT (object_key) DO UPDATE SET delete_after_micros = excluded.delete_after_micros
            """, ct, ("k", objectKey), ("d", afterMicros));

    /// <summary>Upserts by file id, so a flush or merge redone after a crash leaves one row per file.</summary>
    internal static Task UpsertFileAsync(DbConnection conn, DbTransaction tx, StreamKey key, FileMeta f, long now,
        CancellationToken ct) =>
        MetaStore.ExecuteInAsync(conn, tx, """
            INSERT INTO file_meta (org, stream_type, stream, file_id, object_key, index_key, min_ts, max_ts, rows,
                original_bytes, compressed_bytes, index_bytes, wal_seq_start, wal_seq_end, wal_ranges,
                created_at_micros)
            VALUES (@o, @t, @s, @id, @ok, @ik, @min, @max, @rows, @ob, @cb, @ib, @ws, @we, @wr, @n)
            ON CONFLICT (org, stream_type, stream, file_id) DO UPDATE SET
                object_key = excluded.object_key, index_key = excluded.index_key, min_ts = excluded.min_ts,
                max_ts = excluded.max_ts, rows = excluded.rows, original_bytes = excluded.original_bytes,
                compressed_bytes = excluded.compressed_bytes, index_bytes = excluded.index_bytes,
                wal_seq_start = excluded.wal_seq_start, wal_seq_end = excluded.wal_seq_end,
                wal_ranges = excluded.wal_ranges
            """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("id", f.FileId), ("ok", f.ObjectKey),
            ("ik", f.IndexKey), ("min", f.MinTs), ("max", f.MaxTs), ("rows", f.Rows), ("ob", f.OriginalBytes),
            ("cb", f.CompressedBytes), ("ib", f.IndexBytes), ("ws", f.WalSeqStart), ("we", f.WalSeqEnd),
            ("wr", f.WalRanges), ("n", now));

    private static Task InsertHistory(DbConnection conn, DbTransaction tx, StreamKey key, int version, string json, long now, CancellationToken ct) =>
        MetaStore.ExecuteInAsync(conn, tx, """
            INSERT INTO stream_schema_history (org, stream_type, stream, version, schema_json, created_at_micros)
            VALUES (@o, @t, @s, @v, @j, @n)
            ON CONFLICT (org, stream_type, stream, version) DO NOTHING
            """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("v", version), ("j", json), ("n", now));

    /// <summary>The stream's schema versions, newest first.</summary>
    public async Task<IReadOnlyList<(int Version, long CreatedAtMicros, IReadOnlyList<SchemaField> Schema)>>
        SchemaHistoryAsync(StreamKey key, int limit, CancellationToken ct = default)
    {
        var list = new List<(int, long, IReadOnlyList<SchemaField>)>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT version, created_at_micros, schema_json FROM stream_schema_history WHERE {OfStream}
            ORDER BY version DESC LIMIT @l
            """, [.. Of(key), ("l", limit)]);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add((Convert.ToInt32(r.GetValue(0)), Convert.ToInt64(r.GetValue(1)), ParseSchema(r.GetString(2))));
        return list;
    }

    public async Task<IReadOnlyList<StreamRecord>> ListAsync(string org, CancellationToken ct = default)
    {
        var list = new List<StreamRecord>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "SELECT stream_type, stream, schema_json, schema_version, flushed_seq FROM streams WHERE org = @o ORDER BY stream, stream_type",
            ("o", org));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new StreamRecord(org, r.GetString(0), r.GetString(1), ParseSchema(r.GetString(2)), Convert.ToInt32(r.GetValue(3)), Convert.ToInt64(r.GetValue(4))));
        return list;
    }

    /// <summary>The stream's totals over its live files and its dumped partitions, in one snapshot.</summary>
    /// <param name="beforeSeq">Only live files whose WAL range ends before this seq (see BufferedBatches); dumped
    /// files are older than any buffer.</param>
    public async Task<StreamTotals> TotalsAsync(StreamKey key, CancellationToken ct = default, long beforeSeq = long.MaxValue)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT COALESCE(SUM(n_rows), 0), COALESCE(SUM(ob), 0), COALESCE(SUM(cb), 0), COALESCE(SUM(n), 0),
                   MIN(mn), MAX(mx)
            FROM (
                SELECT SUM(rows) AS n_rows, SUM(original_bytes) AS ob, SUM(compressed_bytes + index_bytes) AS cb,
                       COUNT(*) AS n, MIN(min_ts) AS mn, MAX(max_ts) AS mx
                FROM file_meta WHERE {OfStream} AND wal_seq_end < @before
                UNION ALL
                SELECT SUM(rows), SUM(original_bytes), SUM(compressed_bytes + index_bytes), SUM(files), MIN(min_ts),
                       MAX(max_ts)
                FROM dumped_partitions WHERE {OfStream}
            ) AS parts
            """, [.. Of(key), ("before", beforeSeq)]);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new StreamTotals(Convert.ToInt64(r.GetValue(0)), Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2)),
            Convert.ToInt64(r.GetValue(3)), r.IsDBNull(4) ? null : Convert.ToInt64(r.GetValue(4)), r.IsDBNull(5) ? null : Convert.ToInt64(r.GetValue(5)));
    }

    /// <summary>
    /// The stream's live files overlapping [minTs, maxTs] and, in the same snapshot, its dumped partitions that
    /// do: together, every file of the range exactly once.
    /// </summary>
    public async Task<FileSnapshot> SnapshotAsync(StreamKey key, long minTs, long maxTs, CancellationToken ct = default)
    {
        var live = new List<FileMeta>();
        var dumped = new List<DumpedPartition>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT 0, {FileColumns}, {NoDump} FROM file_meta
            WHERE {OfStream} AND max_ts >= @min AND min_ts <= @max
            UNION ALL
            SELECT 1, '', '', '', 0, 0, 0, 0, 0, 0, 0, 0, '', {DumpColumns} FROM dumped_partitions
            WHERE {OfStream} AND max_ts >= @min AND min_ts <= @max
            """, [.. Of(key), ("min", minTs), ("max", maxTs)]);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            if (Convert.ToInt32(r.GetValue(0)) == 1) dumped.Add(ReadDump(key, r, 13));
            else live.Add(ReadFile(r, 1));
        }
        live.Sort((a, b) => a.MinTs.CompareTo(b.MinTs));
        return new FileSnapshot(live, dumped);
    }

    internal const string OfStream = "org = @o AND stream_type = @t AND stream = @s";

    internal static (string, object?)[] Of(StreamKey key) => [("o", key.Org), ("t", key.Type), ("s", key.Stream)];

    /// <summary>The <c>dumped_partitions</c> columns <see cref="ReadDump"/> reads, in its order.</summary>
    public const string DumpColumns =
        "day, manifest_key, files, rows, min_ts, max_ts, original_bytes, compressed_bytes, index_bytes, " +
        "wal_seq_start, wal_seq_end";

    /// <summary>Placeholders for <see cref="DumpColumns"/> in the file rows of a union.</summary>
    private const string NoDump = "0, '', 0, 0, 0, 0, 0, 0, 0, 0, 0";

    public static DumpedPartition ReadDump(StreamKey key, DbDataReader r, int at)
    {
        long L(int i) => Convert.ToInt64(r.GetValue(at + i));
        return new(new PartitionKey(key, L(0)), r.GetString(at + 1), L(2), L(3), L(4), L(5), L(6), L(7), L(8), L(9),
            L(10));
    }

    public async Task<IReadOnlyList<FileMeta>> FilesAsync(StreamKey key, long? minTs = null, long? maxTs = null, CancellationToken ct = default)
    {
        var list = new List<FileMeta>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT {FileColumns} FROM file_meta
            WHERE org = @o AND stream_type = @t AND stream = @s AND max_ts >= @min AND min_ts <= @max
            ORDER BY min_ts
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("min", minTs ?? long.MinValue), ("max", maxTs ?? long.MaxValue));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(ReadFile(r));
        return list;
    }

    /// <summary>The stream's files of one UTC day.</summary>
    public async Task<IReadOnlyList<FileMeta>> DayFilesAsync(PartitionKey p, CancellationToken ct = default) =>
        (await FilesAsync(p.Stream, Partitions.DayStart(p.Day), Partitions.DayStart(p.Day + 1) - 1, ct))
        .Where(f => f.Day == p.Day).ToList();

    /// <summary>The columns <see cref="ReadFile"/> reads, in its order.</summary>
    public const string FileColumns =
        "file_id, object_key, index_key, min_ts, max_ts, rows, original_bytes, compressed_bytes, index_bytes, " +
        "wal_seq_start, wal_seq_end, wal_ranges";

    public static FileMeta ReadFile(DbDataReader r, int at = 0)
    {
        long L(int i) => Convert.ToInt64(r.GetValue(at + i));
        return new(r.GetString(at), r.GetString(at + 1), r.GetString(at + 2), L(3), L(4), L(5), L(6), L(7), L(8), L(9),
            L(10), r.GetString(at + 11));
    }

    public static string SchemaJson(IReadOnlyList<SchemaField> schema) =>
        JsonSerializer.Serialize(schema.Select(f => new Dictionary<string, string> { ["name"] = f.Name, ["type"] = f.Type }));

    public static IReadOnlyList<SchemaField> ParseSchema(string json) =>
        JsonSerializer.Deserialize<List<Dictionary<string, string>>>(json)!.Select(d => new SchemaField(d["name"], d["type"])).ToList();

}
