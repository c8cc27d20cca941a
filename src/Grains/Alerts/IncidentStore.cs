using System.Data.Common;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// Incidents as users see and change them. Acknowledging records who and when and stops reminders; resolving by
/// hand sends the resolved notification like an automatic resolve, in the same transaction.
/// </summary>
public sealed class IncidentStore(MetaStore store, AlertRuleStore rules, TimeProvider clock) : IIncidents
{
    private const string Columns = "id, org, rule_id, group_key, state, severity, value, opened_at_micros, " +
        "last_fired_end_micros, acked_by, acked_at_micros, resolved_by, resolved_at_micros";

    public async Task<IReadOnlyList<Incident>> ListAsync(string org, IncidentState? state, int limit,
        CancellationToken ct) =>
        await store.ReadAsync($"SELECT {Columns} FROM alert_incidents WHERE org = @o " +
            (state is null ? "" : "AND state = @s ") + "ORDER BY opened_at_micros DESC LIMIT @n", Map, ct,
            ("o", org), ("s", state is { } s ? AlertNames.Of(s) : null), ("n", Math.Clamp(limit, 1, 1000)));

    public async Task<Incident?> GetAsync(string org, string id, CancellationToken ct) =>
        (await store.ReadAsync($"SELECT {Columns} FROM alert_incidents WHERE org = @o AND id = @id", Map, ct,
            ("o", org), ("id", id))).FirstOrDefault();

    public async Task<IReadOnlyList<Notification>> NotificationsAsync(string org, string incidentId,
        CancellationToken ct) =>
        await store.ReadAsync("""
            SELECT id, destination_id, event, state, attempts, last_error, created_at_micros, delivered_at_micros
            FROM alert_outbox WHERE org = @o AND incident_id = @i ORDER BY created_at_micros, id
            """, r => new Notification(r.GetString(0), r.GetString(1),
            AlertNames.EventOf(r.GetString(2)), r.GetString(3), r.GetInt32(4),
            Text(r, 5), r.GetInt64(6), Long(r, 7)), ct, ("o", org), ("i", incidentId));

    public async Task<Incident?> AcknowledgeAsync(string org, string id, string who, CancellationToken ct)
    {
        var n = await store.ExecuteAsync("UPDATE alert_incidents SET state = 'acknowledged', acked_by = @who, " +
            "acked_at_micros = @now WHERE org = @o AND id = @id AND state = 'open'", ct, ("who", who),
            ("now", Clock.NowMicros(clock)), ("o", org), ("id", id));
        var incident = await GetAsync(org, id, ct);
        if (n == 0 && incident is { State: IncidentState.Resolved })
            throw new AuthException(AuthErrorKind.Conflict, $"incident {id} is resolved");
        return incident;
    }

    public async Task<Incident?> ResolveAsync(string org, string id, string who, CancellationToken ct)
    {
        var incident = await GetAsync(org, id, ct);
        if (incident is null || incident.State == IncidentState.Resolved) return incident;
        var now = Clock.NowMicros(clock);
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var n = await MetaStore.ExecuteInAsync(conn, tx, "UPDATE alert_incidents SET state = 'resolved', " +
            "resolved_by = @who, resolved_at_micros = @now WHERE org = @o AND id = @id AND state <> 'resolved'", ct,
            ("who", who), ("now", now), ("o", org), ("id", id));
        if (n == 1 && await rules.GetAsync(org, incident.RuleId, ct) is { } rule)
            await IncidentTransitions.NotifyAsync(conn, tx, rule, id,
                new GroupValue(incident.GroupKey, incident.Value ?? 0, null), AlertEvent.Resolved,
                incident.LastFiredEndMicros, incident.LastFiredEndMicros, now, ct);
        await tx.CommitAsync(ct);
        return await GetAsync(org, id, ct);
    }

    private static Incident Map(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        r.GetString(3), AlertNames.State(r.GetString(4)), AlertNames.SeverityOf(r.GetString(5)),
        r.IsDBNull(6) ? null : r.GetDouble(6), r.GetInt64(7), r.GetInt64(8), Text(r, 9), Long(r, 10), Text(r, 11),
        Long(r, 12));

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static long? Long(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}
