using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// One dispatcher pass over the outbox: claims due notifications (a conditional update that takes a row only while
/// it is pending and unclaimed or its claim lapsed, so two dispatchers never send the same one at once), delivers
/// each, and records the result. A failure is retried after an exponential backoff of
/// <c>retry_base × 2^(attempt−1)</c> (at most an hour) until <c>max_attempts</c>, then the row is failed. A node
/// killed after sending and before recording leaves the row claimed: it is sent again, with the same key, once the
/// claim lapses.
/// </summary>
public sealed class Dispatcher(MetaStore store, DestinationStore destinations, NotificationSender sender,
    LiveSettings<AlertSettings> settings, TimeProvider clock)
{
    private const int ClaimBatch = 100, Parallelism = 8;

    private sealed record Row(string Id, string Org, string DestinationId, string Payload, int Attempts);

    /// <returns>Notifications delivered.</returns>
    public async Task<int> RunOnceAsync(string holder, CancellationToken ct)
    {
        var rows = await ClaimAsync(holder, ct);
        var delivered = 0;
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = Parallelism,
            CancellationToken = ct }, async (row, token) =>
        {
            if (await DeliverAsync(row, holder, token)) Interlocked.Increment(ref delivered);
        });
        return delivered;
    }

    private async Task<List<Row>> ClaimAsync(string holder, CancellationToken ct)
    {
        var now = Clock.NowMicros(clock);
        var due = await store.ReadAsync("""
            SELECT id, org, destination_id, payload, attempts FROM alert_outbox
            WHERE state = 'pending' AND next_attempt_micros <= @now AND lease_expires_micros < @now
            ORDER BY next_attempt_micros LIMIT @n
            """, r => new Row(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4)), ct,
            ("now", now), ("n", ClaimBatch));
        var claimed = new List<Row>(due.Count);
        foreach (var row in due)
            if (await store.ExecuteAsync("UPDATE alert_outbox SET holder = @h, lease_expires_micros = @lease " +
                    "WHERE id = @id AND state = 'pending' AND lease_expires_micros < @now", ct, ("h", holder),
                    ("lease", now + Clock.Micros(settings.Current.Lease)), ("id", row.Id), ("now", now)) == 1)
                claimed.Add(row);
        return claimed;
    }

    private async Task<bool> DeliverAsync(Row row, string holder, CancellationToken ct)
    {
        var s = settings.Current;
        var destination = await destinations.GetAsync(row.Org, row.DestinationId, ct);
        var error = destination is null
            ? "the destination was deleted"
            : await sender.SendAsync(destination, row.Payload, row.Id, ct);
        var kind = destination is null ? "none" : AlertNames.Of(destination.Spec.Kind);
        var attempts = row.Attempts + 1;
        var now = Clock.NowMicros(clock);
        string state;
        if (error is null) state = "delivered";
        else if (destination is null || attempts >= s.MaxAttempts) state = "failed";
        else state = "pending";
        var backoff = Math.Min(3600e6, Clock.Micros(s.RetryBase) * Math.Pow(2, attempts - 1));
        await store.ExecuteAsync("""
            UPDATE alert_outbox SET state = @state, attempts = @attempts, next_attempt_micros = @next, holder = NULL,
                lease_expires_micros = 0, last_error = @error, delivered_at_micros = @delivered
            WHERE id = @id AND holder = @h
            """, ct, ("state", state), ("attempts", attempts), ("next", now + (long)backoff), ("error", error),
            ("delivered", error is null ? now : null), ("id", row.Id), ("h", holder));
        AlertMetrics.Notifications.WithLabels(kind, error is null ? "delivered" : state == "failed" ? "failed"
            : "retried").Inc();
        return error is null;
    }
}
