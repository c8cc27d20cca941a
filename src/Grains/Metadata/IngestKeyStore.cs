using System.Data.Common;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>An idempotency key a stream acknowledged, with the request's receipt.</summary>
public readonly record struct IngestKey(string Key, byte[] Receipt, long AckedAtMicros);

/// <summary>
/// The <c>ingest_keys</c> table: idempotency keys whose WAL entries were flushed. The flush writes them in its own
/// transaction (<see cref="StreamMetaStore.CommitFlushAsync"/>), so they are stored exactly when their records
/// are; a stream reads them back when it needs them, within the window.
/// </summary>
public sealed class IngestKeyStore(MetaStore store)
{
    /// <summary>The keys the batches carry (a request's last batch for the stream); their time is now, which
    /// keeps a key at least the window after it was acknowledged.</summary>
    public static List<IngestKey> Of(IEnumerable<IngestBatch> batches, long nowMicros)
    {
        var keys = new List<IngestKey>();
        foreach (var b in batches)
            if (b is { IdempotencyKey: { } k, Receipt: { } r }) keys.Add(new IngestKey(k, r, nowMicros));
        return keys;
    }

    /// <summary>The oldest acknowledgement time a key is still kept for, <paramref name="window"/> before now.
    /// </summary>
    public static long OldestKept(long nowMicros, TimeSpan window) => nowMicros - (long)window.TotalMicroseconds;

    /// <summary>Stores the keys and drops the stream's keys older than <paramref name="cutMicros"/>.</summary>
    internal static async Task InsertAsync(DbConnection conn, DbTransaction tx, StreamKey stream,
        IReadOnlyList<IngestKey> keys, long cutMicros, CancellationToken ct)
    {
        if (keys.Count == 0) return;
        var of = StreamMetaStore.Of(stream);
        foreach (var k in keys)
            await MetaStore.ExecuteInAsync(conn, tx, """
                INSERT INTO ingest_keys (org, stream_type, stream, idempotency_key, receipt, acked_at_micros)
                VALUES (@o, @t, @s, @k, @r, @a)
                ON CONFLICT (org, stream_type, stream, idempotency_key) DO UPDATE SET
                    receipt = excluded.receipt, acked_at_micros = excluded.acked_at_micros
                """, ct, [.. of, ("k", k.Key), ("r", Convert.ToBase64String(k.Receipt)), ("a", k.AckedAtMicros)]);
        await MetaStore.ExecuteInAsync(conn, tx,
            $"DELETE FROM ingest_keys WHERE {StreamMetaStore.OfStream} AND acked_at_micros < @c", ct,
            [.. of, ("c", cutMicros)]);
    }

    /// <summary>Stores keys outside a flush (entries put in quarantine instead of files).</summary>
    public async Task RememberAsync(StreamKey stream, IReadOnlyList<IngestKey> keys, long cutMicros,
        CancellationToken ct = default)
    {
        if (keys.Count == 0) return;
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await InsertAsync(conn, tx, stream, keys, cutMicros, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The stream's keys acknowledged at or after <paramref name="sinceMicros"/>, oldest first.</summary>
    public Task<List<IngestKey>> SinceAsync(StreamKey stream, long sinceMicros, CancellationToken ct = default) =>
        store.ReadAsync($"""
            SELECT idempotency_key, receipt, acked_at_micros FROM ingest_keys
            WHERE {StreamMetaStore.OfStream} AND acked_at_micros >= @c
            ORDER BY acked_at_micros
            """, r => new IngestKey(r.GetString(0), Convert.FromBase64String(r.GetString(1)), r.GetInt64(2)), ct,
            [.. StreamMetaStore.Of(stream), ("c", sinceMicros)]);
}
