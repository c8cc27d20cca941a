using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>The <c>stream_settings</c> table: what a stream sets for itself (today its retention).</summary>
public sealed class StreamSettingsStore(MetaStore store)
{
    /// <summary>The stream's own retention in days, or null when it follows
    /// <c>[compactor].retention_days</c>.</summary>
    public async Task<int?> RetentionDaysAsync(StreamKey key, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "SELECT retention_days FROM stream_settings WHERE org = @o AND stream_type = @t AND stream = @s",
            ("o", key.Org), ("t", key.Type), ("s", key.Stream));
        return await cmd.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt32(v) : null;
    }

    /// <summary>Every stream's own retention (streams that set one).</summary>
    public async Task<IReadOnlyDictionary<StreamKey, int>> RetentionOverridesAsync(CancellationToken ct = default)
    {
        var map = new Dictionary<StreamKey, int>();
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "SELECT org, stream_type, stream, retention_days FROM stream_settings WHERE retention_days IS NOT NULL");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            map[new StreamKey(r.GetString(0), r.GetString(1), r.GetString(2))] = Convert.ToInt32(r.GetValue(3));
        return map;
    }

    /// <summary>Sets (or, with null, clears) the stream's own retention.</summary>
    public async Task SetRetentionDaysAsync(StreamKey key, int? days, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            INSERT INTO stream_settings (org, stream_type, stream, retention_days, updated_at_micros)
            VALUES (@o, @t, @s, @d, @n)
            ON CONFLICT (org, stream_type, stream) DO UPDATE SET retention_days = excluded.retention_days,
                updated_at_micros = excluded.updated_at_micros
            """, ("o", key.Org), ("t", key.Type), ("s", key.Stream), ("d", days),
            ("n", Clock.NowMicros(TimeProvider.System)));
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
