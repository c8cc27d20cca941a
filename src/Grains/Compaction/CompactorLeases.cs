using System.Data.Common;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// The <c>compactor_leases</c> table: one holder per partition, so any number of compactors split the partitions
/// between them and never work on the same one. Taking is one statement (an upsert that only overwrites a lapsed or
/// own lease), on SQLite and Postgres alike; a killed holder's lease lapses after the TTL and another takes over.
/// </summary>
public sealed class CompactorLeases(MetaStore store, TimeProvider clock)
{
    /// <summary>Whether <paramref name="holder"/> now holds the partition (taken afresh, or renewed).</summary>
    public async Task<bool> TryTakeAsync(PartitionKey p, string holder, TimeSpan ttl, CancellationToken ct = default)
    {
        var now = Clock.NowMicros(clock);
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, """
            INSERT INTO compactor_leases (org, stream_type, stream, day, holder, expires_at_micros)
            VALUES (@o, @t, @s, @d, @h, @e)
            ON CONFLICT (org, stream_type, stream, day) DO UPDATE SET holder = excluded.holder,
                expires_at_micros = excluded.expires_at_micros
            WHERE compactor_leases.expires_at_micros < @now OR compactor_leases.holder = excluded.holder
            RETURNING holder
            """, Args(p, ("h", holder), ("e", now + Clock.Micros(ttl)), ("now", now)));
        return await cmd.ExecuteScalarAsync(ct) is string h && h == holder;
    }

    /// <summary>Extends a lease still held; false once it lapsed (another may hold the partition now).</summary>
    public async Task<bool> RenewAsync(PartitionKey p, string holder, TimeSpan ttl, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        return await RenewAsync(conn, null, p, holder, ttl, ct);
    }

    /// <summary>The renewal inside another statement's transaction: the check a merge's swap commits under.</summary>
    public async Task<bool> RenewAsync(DbConnection conn, DbTransaction? tx, PartitionKey p, string holder,
        TimeSpan ttl,
        CancellationToken ct)
    {
        var now = Clock.NowMicros(clock);
        await using var cmd = MetaStore.Command(conn, """
            UPDATE compactor_leases SET expires_at_micros = @e
            WHERE org = @o AND stream_type = @t AND stream = @s AND day = @d AND holder = @h
                AND expires_at_micros >= @now
            """, Args(p, ("h", holder), ("e", now + Clock.Micros(ttl)), ("now", now)));
        cmd.Transaction = tx;
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task ReleaseAsync(PartitionKey p, string holder, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "DELETE FROM compactor_leases " +
            "WHERE org = @o AND stream_type = @t AND stream = @s AND day = @d AND holder = @h",
            Args(p, ("h", holder)));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static (string, object?)[] Args(PartitionKey p, params (string, object?)[] more) =>
        [("o", p.Stream.Org), ("t", p.Stream.Type), ("s", p.Stream.Stream), ("d", p.Day), .. more];
}
