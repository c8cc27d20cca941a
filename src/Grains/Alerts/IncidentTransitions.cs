using System.Data.Common;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// What an evaluated window does to a rule's incidents, inside the window's transaction: a firing group opens an
/// incident (or updates its open one), a group quiet for <c>resolve_after_windows</c> windows resolves; each
/// change that notifies puts one outbox row per destination in the same transaction. A group's notification
/// silences it for <c>silence_secs</c>: a new incident within that time is opened quietly, and an open one
/// still firing after it is notified again (a reminder). Acknowledged incidents are never reminded.
/// </summary>
public static class IncidentTransitions
{
    private sealed record Live(string Id, string GroupKey, IncidentState State, long LastNotified, int Quiet);

    /// <returns>Notifications written.</returns>
    public static async Task<int> ApplyAsync(DbConnection conn, DbTransaction tx, AlertRule rule, long start,
        long end, IReadOnlyList<GroupValue> groups, long now, CancellationToken ct)
    {
        var spec = rule.Spec;
        var live = await LiveAsync(conn, tx, rule, ct);
        var silence = spec.SilenceSecs * 1_000_000L;
        var notified = 0;
        var firing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
        {
            if (g.Fires is not { } severity) continue;
            firing.Add(g.GroupKey);
            if (live.TryGetValue(g.GroupKey, out var open))
            {
                var remind = open.State == IncidentState.Open && silence > 0 && now - open.LastNotified >= silence;
                await MetaStore.ExecuteInAsync(conn, tx, """
                    UPDATE alert_incidents SET severity = @sev, value = @val, last_fired_end_micros = @end,
                        quiet_windows = 0, last_notified_micros = @notified
                    WHERE id = @id
                    """, ct, ("sev", AlertNames.Of(severity)), ("val", g.Value), ("end", end), ("id", open.Id),
                    ("notified", remind ? now : open.LastNotified));
                if (remind) notified += await NotifyAsync(conn, tx, rule, open.Id, g, AlertEvent.Firing, start, end,
                    now, ct);
                continue;
            }
            var id = Guid.NewGuid().ToString("N");
            var last = await LastNotifiedAsync(conn, tx, rule, g.GroupKey, ct);
            var silenced = now - last < silence;
            await MetaStore.ExecuteInAsync(conn, tx, """
                INSERT INTO alert_incidents (id, org, rule_id, group_key, state, severity, value, opened_at_micros,
                    last_fired_end_micros, last_notified_micros, quiet_windows)
                VALUES (@id, @o, @r, @g, 'open', @sev, @val, @now, @end, @notified, 0)
                """, ct, ("id", id), ("o", rule.Org), ("r", rule.Id), ("g", g.GroupKey),
                ("sev", AlertNames.Of(severity)), ("val", g.Value), ("now", now), ("end", end),
                ("notified", silenced ? last : now));
            if (!silenced) notified += await NotifyAsync(conn, tx, rule, id, g, AlertEvent.Firing, start, end, now,
                ct);
        }
        foreach (var open in live.Values)
        {
            if (firing.Contains(open.GroupKey)) continue;
            if (open.Quiet + 1 < spec.ResolveAfterWindows)
            {
                await MetaStore.ExecuteInAsync(conn, tx,
                    "UPDATE alert_incidents SET quiet_windows = quiet_windows + 1 WHERE id = @id", ct, ("id", open.Id));
                continue;
            }
            await MetaStore.ExecuteInAsync(conn, tx, """
                UPDATE alert_incidents SET state = 'resolved', quiet_windows = quiet_windows + 1,
                    resolved_by = 'system', resolved_at_micros = @now
                WHERE id = @id
                """, ct, ("id", open.Id), ("now", now));
            var value = groups.FirstOrDefault(g => g.GroupKey == open.GroupKey)?.Value ?? 0;
            notified += await NotifyAsync(conn, tx, rule, open.Id, new GroupValue(open.GroupKey, value, null),
                AlertEvent.Resolved, start, end, now, ct);
        }
        return notified;
    }

    /// <summary>The outbox rows of one event, one per destination of the rule; the payload is complete, so the
    /// dispatcher needs nothing else (a rule edited or deleted later does not change what was decided).</summary>
    public static async Task<int> NotifyAsync(DbConnection conn, DbTransaction tx, AlertRule rule, string incidentId,
        GroupValue g, AlertEvent e, long start, long end, long now, CancellationToken ct)
    {
        await Outbox.AddAsync(conn, tx, rule.Org, incidentId, rule.Spec.Destinations, e,
            AlertJson.Write(Payload(rule, incidentId, g, e, start, end)), now, ct);
        return rule.Spec.Destinations.Count;
    }

    public static Dictionary<string, object?> Payload(AlertRule rule, string incidentId, GroupValue g, AlertEvent e,
        long start, long end)
    {
        var values = JsonSerializer.Deserialize<string?[]>(g.GroupKey) ?? [];
        var group = new Dictionary<string, string?>();
        for (var i = 0; i < values.Length && i < rule.Spec.GroupBy.Count; i++) group[rule.Spec.GroupBy[i]] = values[i];
        var c = rule.Spec.Condition;
        return new Dictionary<string, object?>
        {
            ["event"] = AlertNames.Of(e),
            ["org"] = rule.Org,
            ["rule_id"] = rule.Id,
            ["rule_name"] = rule.Spec.Name,
            ["stream"] = rule.Spec.Stream,
            ["incident_id"] = incidentId,
            ["group"] = group,
            ["group_key"] = g.GroupKey,
            ["severity"] = g.Fires is { } s ? AlertNames.Of(s) : null,
            ["value"] = double.IsFinite(g.Value) ? g.Value : null,
            ["condition"] = $"{c.Column ?? "rows"} {AlertNames.Of(c.Operator)} {c.Threshold}",
            ["window_start"] = start,
            ["window_end"] = end,
            ["labels"] = rule.Spec.Labels,
        };
    }

    private static async Task<Dictionary<string, Live>> LiveAsync(DbConnection conn, DbTransaction tx, AlertRule rule,
        CancellationToken ct)
    {
        await using var cmd = MetaStore.Command(conn, """
            SELECT id, group_key, state, last_notified_micros, quiet_windows FROM alert_incidents
            WHERE org = @o AND rule_id = @r AND state <> 'resolved'
            """, ("o", rule.Org), ("r", rule.Id));
        cmd.Transaction = tx;
        var live = new Dictionary<string, Live>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            live[r.GetString(1)] = new Live(r.GetString(0), r.GetString(1), AlertNames.State(r.GetString(2)),
                r.GetInt64(3), r.GetInt32(4));
        return live;
    }

    private static async Task<long> LastNotifiedAsync(DbConnection conn, DbTransaction tx, AlertRule rule,
        string groupKey, CancellationToken ct)
    {
        await using var cmd = MetaStore.Command(conn,
            "SELECT max(last_notified_micros) FROM alert_incidents WHERE org = @o AND rule_id = @r AND group_key = @g",
            ("o", rule.Org), ("r", rule.Id), ("g", groupKey));
        cmd.Transaction = tx;
        return await cmd.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt64(v) : long.MinValue / 2;
    }
}
