using System.Data.Common;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>The <c>streams</c>, <c>stream_schema_history</c> and <c>file_meta</c> tables. Same SQL on both dialects.</summary>
public sealed class StreamMetaStore(MetaStore store)
{
    private static long NowMicros => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

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

    /// <summary>The WAL ranges of the stream's data files that overlap [first, last].</summary>
    public async Task<IReadOnlyList<(long Start, long End)>> FlushedRangesAsync(StreamKey key, long first, long last, CancellationToken ct = default)
    {
        var ranges = new List<(long, long)>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            SELECT DISTINCT wal_seq_start, wal_seq_end FROM file_meta
            WHERE org = @o AND stream_type = @t AND stream = @s AND wal_seq_end >= @first AND wal_seq_start <= @last
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("first", first), ("last", last));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) ranges.Add((Convert.ToInt64(r.GetValue(0)), Convert.ToInt64(r.GetValue(1))));
        return ranges;
    }

    /// <summary>
    /// Records flushed files, the stream's schema (a new version when it changed) and its flushed WAL seq in one
    /// transaction. Upserts by file id, so a flush redone after a crash leaves one row per file.
    /// </summary>
    public async Task CommitFlushAsync(StreamKey key, IReadOnlyList<FileMeta> files, IReadOnlyList<SchemaField> schema, long flushedSeq, CancellationToken ct = default)
    {
        var now = NowMicros;
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        foreach (var f in files)
        {
            await Exec(conn, tx, """
                INSERT INTO file_meta (org, stream_type, stream, file_id, object_key, index_key, min_ts, max_ts, rows,
                    original_bytes, compressed_bytes, index_bytes, wal_seq_start, wal_seq_end, created_at_micros)
                VALUES (@o, @t, @s, @id, @ok, @ik, @min, @max, @rows, @ob, @cb, @ib, @ws, @we, @n)
                ON CONFLICT (org, stream_type, stream, file_id) DO UPDATE SET
                    object_key = excluded.object_key, index_key = excluded.index_key, min_ts = excluded.min_ts,
                    max_ts = excluded.max_ts, rows = excluded.rows, original_bytes = excluded.original_bytes,
                    compressed_bytes = excluded.compressed_bytes, index_bytes = excluded.index_bytes,
                    wal_seq_start = excluded.wal_seq_start, wal_seq_end = excluded.wal_seq_end
                """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("id", f.FileId), ("ok", f.ObjectKey),
                ("ik", f.IndexKey), ("min", f.MinTs), ("max", f.MaxTs), ("rows", f.Rows), ("ob", f.OriginalBytes),
                ("cb", f.CompressedBytes), ("ib", f.IndexBytes), ("ws", f.WalSeqStart), ("we", f.WalSeqEnd), ("n", now));
        }

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
            await Exec(conn, tx, """
                INSERT INTO streams (org, stream_type, stream, schema_json, schema_version, flushed_seq, created_at_micros, updated_at_micros)
                VALUES (@o, @t, @s, @j, 1, @f, @n, @n)
                """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("j", json), ("f", flushedSeq), ("n", now));
            await InsertHistory(conn, tx, key, version, json, now, ct);
        }
        else
        {
            var changed = currentJson != json;
            if (changed) version++;
            await Exec(conn, tx, """
                UPDATE streams SET schema_json = @j, schema_version = @v, updated_at_micros = @n,
                    flushed_seq = CASE WHEN flushed_seq > @f THEN flushed_seq ELSE @f END
                WHERE org = @o AND stream_type = @t AND stream = @s
                """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("j", json), ("v", version), ("f", flushedSeq), ("n", now));
            if (changed) await InsertHistory(conn, tx, key, version, json, now, ct);
        }
        await tx.CommitAsync(ct);
    }

    private static Task InsertHistory(DbConnection conn, DbTransaction tx, StreamKey key, int version, string json, long now, CancellationToken ct) =>
        Exec(conn, tx, """
            INSERT INTO stream_schema_history (org, stream_type, stream, version, schema_json, created_at_micros)
            VALUES (@o, @t, @s, @v, @j, @n)
            ON CONFLICT (org, stream_type, stream, version) DO NOTHING
            """, ct, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("v", version), ("j", json), ("n", now));

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

    /// <param name="beforeSeq">Only files whose WAL range ends before this seq (see BufferedBatches).</param>
    public async Task<StreamTotals> TotalsAsync(StreamKey key, CancellationToken ct = default, long beforeSeq = long.MaxValue)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            SELECT COALESCE(SUM(rows), 0), COALESCE(SUM(original_bytes), 0), COALESCE(SUM(compressed_bytes + index_bytes), 0),
                   COUNT(*), MIN(min_ts), MAX(max_ts)
            FROM file_meta WHERE org = @o AND stream_type = @t AND stream = @s AND wal_seq_end < @before
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("before", beforeSeq));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new StreamTotals(Convert.ToInt64(r.GetValue(0)), Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2)),
            Convert.ToInt64(r.GetValue(3)), r.IsDBNull(4) ? null : Convert.ToInt64(r.GetValue(4)), r.IsDBNull(5) ? null : Convert.ToInt64(r.GetValue(5)));
    }

    public async Task<IReadOnlyList<FileMeta>> FilesAsync(StreamKey key, long? minTs = null, long? maxTs = null, CancellationToken ct = default)
    {
        var list = new List<FileMeta>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            SELECT file_id, object_key, index_key, min_ts, max_ts, rows, original_bytes, compressed_bytes, index_bytes, wal_seq_start, wal_seq_end
            FROM file_meta WHERE org = @o AND stream_type = @t AND stream = @s AND max_ts >= @min AND min_ts <= @max
            ORDER BY min_ts
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("min", minTs ?? long.MinValue), ("max", maxTs ?? long.MaxValue));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new FileMeta(r.GetString(0), r.GetString(1), r.GetString(2), Convert.ToInt64(r.GetValue(3)), Convert.ToInt64(r.GetValue(4)),
                Convert.ToInt64(r.GetValue(5)), Convert.ToInt64(r.GetValue(6)), Convert.ToInt64(r.GetValue(7)), Convert.ToInt64(r.GetValue(8)),
                Convert.ToInt64(r.GetValue(9)), Convert.ToInt64(r.GetValue(10))));
        return list;
    }

    public static string SchemaJson(IReadOnlyList<SchemaField> schema) =>
        JsonSerializer.Serialize(schema.Select(f => new Dictionary<string, string> { ["name"] = f.Name, ["type"] = f.Type }));

    public static IReadOnlyList<SchemaField> ParseSchema(string json) =>
        JsonSerializer.Deserialize<List<Dictionary<string, string>>>(json)!.Select(d => new SchemaField(d["name"], d["type"])).ToList();

    private static async Task Exec(DbConnection conn, DbTransaction tx, string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var cmd = MetaStore.Command(conn, sql, args);
        cmd.Transaction = tx;
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
