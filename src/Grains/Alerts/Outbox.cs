using System.Data.Common;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>Notifications to deliver, written inside the transaction of the change that causes them; the row's id is
/// the notification's key (its Idempotency-Key on every attempt).</summary>
public static class Outbox
{
    /// <param name="subjectId">The incident, or the report run, the notification is about.</param>
    public static async Task AddAsync(DbConnection conn, DbTransaction tx, string org, string subjectId,
        IReadOnlyList<string> destinations, AlertEvent e, string payload, long now, CancellationToken ct)
    {
        foreach (var destination in destinations)
            await MetaStore.ExecuteInAsync(conn, tx, """
                INSERT INTO alert_outbox (id, org, incident_id, destination_id, event, payload, state, attempts,
                    next_attempt_micros, holder, lease_expires_micros, created_at_micros)
                VALUES (@id, @o, @subject, @d, @e, @p, 'pending', 0, @now, NULL, 0, @now)
                """, ct, ("id", Guid.NewGuid().ToString("N")), ("o", org), ("subject", subjectId),
                ("d", destination), ("e", AlertNames.Of(e)), ("p", payload), ("now", now));
    }
}
