using System.Data.Common;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// A table of saved specs — (org, id, name, spec JSON, version, updated_at_micros) — each with at most one row in
/// its schedule table, keyed (org, <c>scheduleKey</c>). A save writes the row (an update only over the version
/// before it, else a conflict) and rebuilds the schedule in the same transaction, so nothing saved is ever
/// without its schedule and a claim taken on an older version cannot commit. Rules and reports are two of them.
/// </summary>
public sealed class SpecTable
{
    public static readonly SpecTable Rules = new("alert_rules", "alert_schedules", "rule_id", "alert rule");
    public static readonly SpecTable Reports = new("alert_reports", "report_schedules", "report_id", "report");

    private readonly string _table, _schedules, _key, _what;

    private SpecTable(string table, string schedules, string key, string what) =>
        (_table, _schedules, _key, _what) = (table, schedules, key, what);

    public sealed record Row(string Id, string Org, long Version, long UpdatedAtMicros, string Spec);

    /// <summary>Refuses one more when the org has <paramref name="max"/> already.</summary>
    public async Task EnsureRoomAsync(MetaStore store, string org, int max, CancellationToken ct)
    {
        var count = Convert.ToInt64(await store.ScalarAsync($"SELECT count(*) FROM {_table} WHERE org = @o", ct,
            ("o", org)));
        if (count >= max)
            throw new AuthException(AuthErrorKind.LimitReached, $"this org has {count} {_what}s, the most it may have");
    }

    public async Task<Row?> GetAsync(MetaStore store, string org, string id, CancellationToken ct) =>
        (await store.ReadAsync($"SELECT id, org, version, updated_at_micros, spec FROM {_table} " +
            "WHERE org = @o AND id = @id", Map, ct, ("o", org), ("id", id))).FirstOrDefault();

    public async Task<List<Row>> ListAsync(MetaStore store, string org, CancellationToken ct) =>
        await store.ReadAsync($"SELECT id, org, version, updated_at_micros, spec FROM {_table} WHERE org = @o " +
            "ORDER BY name, id", Map, ct, ("o", org));

    /// <summary>Deletes the row and its schedule; false when there was no row.</summary>
    public async Task<bool> DeleteAsync(MetaStore store, string org, string id, CancellationToken ct)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var n = await MetaStore.ExecuteInAsync(conn, tx, $"DELETE FROM {_table} WHERE org = @o AND id = @id", ct,
            ("o", org), ("id", id));
        await MetaStore.ExecuteInAsync(conn, tx, $"DELETE FROM {_schedules} WHERE org = @o AND {_key} = @id", ct,
            ("o", org), ("id", id));
        await tx.CommitAsync(ct);
        return n == 1;
    }

    /// <summary>Writes <paramref name="row"/> (version 1: inserted) and replaces its schedule with what
    /// <paramref name="schedule"/> inserts (null: none, the spec is disabled), in one transaction.</summary>
    public async Task SaveAsync(MetaStore store, Row row, string name,
        Func<DbConnection, DbTransaction, Task>? schedule, CancellationToken ct)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        (string, object?)[] args = [("o", row.Org), ("id", row.Id), ("name", name), ("spec", row.Spec),
            ("v", row.Version), ("at", row.UpdatedAtMicros)];
        var n = await MetaStore.ExecuteInAsync(conn, tx, row.Version == 1
            ? $"INSERT INTO {_table} (org, id, name, spec, version, updated_at_micros) " +
              "VALUES (@o, @id, @name, @spec, @v, @at)"
            : $"UPDATE {_table} SET name = @name, spec = @spec, version = @v, updated_at_micros = @at " +
              "WHERE org = @o AND id = @id AND version = @v - 1", ct, args);
        if (n != 1) throw new AuthException(AuthErrorKind.Conflict, $"{_what} {row.Id} changed meanwhile");
        await MetaStore.ExecuteInAsync(conn, tx, $"DELETE FROM {_schedules} WHERE org = @o AND {_key} = @id", ct,
            args);
        if (schedule is not null) await schedule(conn, tx);
        await tx.CommitAsync(ct);
    }

    private static Row Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetString(4));
}
