using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Compaction;

/// <summary>What the compactor reads of <c>file_meta</c> to plan, and its queue of objects to delete.</summary>
public sealed class CompactionCatalog(MetaStore store)
{
    /// <summary>A partition with at least two small files, and how many and how big they are.</summary>
    public sealed record Candidate(PartitionKey Partition, long SmallFiles, long SmallBytes);

    /// <summary>Partitions with two or more files below <paramref name="targetBytes"/>, those with most
    /// first.</summary>
    public async Task<IReadOnlyList<Candidate>> CandidatesAsync(long targetBytes, CancellationToken ct = default)
    {
        var list = new List<Candidate>();
        await using var conn = await store.OpenAsync(ct);
        // The day is min_ts / micros-per-day (timestamps are never negative); a literal, so both dialects group by
        // the very expression they select.
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT org, stream_type, stream, min_ts / {Partitions.MicrosPerDay}, COUNT(*), SUM(compressed_bytes)
            FROM file_meta WHERE compressed_bytes < @target
            GROUP BY org, stream_type, stream, min_ts / {Partitions.MicrosPerDay}
            HAVING COUNT(*) >= 2
            ORDER BY COUNT(*) DESC
            """, ("target", targetBytes));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new Candidate(new PartitionKey(new StreamKey(r.GetString(0), r.GetString(1), r.GetString(2)),
                Convert.ToInt64(r.GetValue(3))), Convert.ToInt64(r.GetValue(4)), Convert.ToInt64(r.GetValue(5))));
        return list;
    }

    /// <summary>Every stream with data files (live or dumped), and the day of its oldest one.</summary>
    public async Task<IReadOnlyList<(StreamKey Stream, long OldestDay)>> StreamsAsync(CancellationToken ct = default)
    {
        var list = new List<(StreamKey, long)>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT org, stream_type, stream, MIN(day) FROM (
                SELECT org, stream_type, stream, min_ts / {Partitions.MicrosPerDay} AS day FROM file_meta
                UNION ALL SELECT org, stream_type, stream, day FROM dumped_partitions) AS days
            GROUP BY org, stream_type, stream
            """);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add((new StreamKey(r.GetString(0), r.GetString(1), r.GetString(2)), Convert.ToInt64(r.GetValue(3))));
        return list;
    }

    /// <summary>The distinct days of a stream's files (live or dumped) before <paramref name="beforeDay"/>.</summary>
    public async Task<IReadOnlyList<long>> DaysBeforeAsync(StreamKey key, long beforeDay,
        CancellationToken ct = default)
    {
        var list = new List<long>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, $"""
            SELECT min_ts / {Partitions.MicrosPerDay} FROM file_meta
            WHERE org = @o AND stream_type = @t AND stream = @s AND min_ts < @before
            UNION SELECT day FROM dumped_partitions
            WHERE org = @o AND stream_type = @t AND stream = @s AND day < @beforeDay
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("before", Partitions.DayStart(beforeDay)),
            ("beforeDay", beforeDay));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(Convert.ToInt64(r.GetValue(0)));
        return list;
    }

    /// <summary>Queued objects whose delay has passed, oldest first.</summary>
    public async Task<IReadOnlyList<string>> DueDeletionsAsync(long nowMicros, int limit,
        CancellationToken ct = default)
    {
        var list = new List<string>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "SELECT object_key FROM file_deletions WHERE delete_after_micros <= @now " +
            $"ORDER BY delete_after_micros LIMIT {limit}",
            ("now", nowMicros));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(r.GetString(0));
        return list;
    }

    public async Task<long> QueuedDeletionsAsync(CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, "SELECT COUNT(*) FROM file_deletions");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public async Task DequeueDeletionAsync(string objectKey, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, "DELETE FROM file_deletions WHERE object_key = @k",
            ("k", objectKey));
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
