using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// One evaluator pass: claims the rules whose next window is due (a conditional update that only takes a free or
/// lapsed claim, so of several alert managers exactly one evaluates a window), then evaluates each claimed
/// rule's due windows in order. A window commits in one transaction: the schedule's advance (only while this node
/// still holds the claim on the rule's current version), its ledger row, its incident changes and their
/// notifications. A node killed mid-window committed nothing of it, and the next claimant evaluates it again.
/// </summary>
public sealed class AlertEvaluator(MetaStore store, AlertRuleStore rules, WindowEvaluator windows,
    LiveSettings<AlertSettings> settings, TimeProvider clock,
    ILogger<AlertEvaluator>? log = null)
{
    private const int ClaimBatch = 200, Parallelism = 4;

    private sealed record Claim(string Org, string RuleId, long Version, long NextEnd);

    /// <returns>Windows evaluated.</returns>
    public async Task<int> RunOnceAsync(string holder, CancellationToken ct)
    {
        var claims = await ClaimAsync(holder, ct);
        var evaluated = 0;
        await Parallel.ForEachAsync(claims, new ParallelOptions { MaxDegreeOfParallelism = Parallelism,
            CancellationToken = ct }, async (claim, token) =>
        {
            var n = await EvaluateRuleAsync(claim, holder, token);
            Interlocked.Add(ref evaluated, n);
        });
        AlertMetrics.IncidentsOpen.Set(Convert.ToDouble(await store.ScalarAsync(
            "SELECT count(*) FROM alert_incidents WHERE state <> 'resolved'", ct)));
        return evaluated;
    }

    private async Task<List<Claim>> ClaimAsync(string holder, CancellationToken ct)
    {
        var now = Clock.NowMicros(clock);
        var due = await store.ReadAsync("""
            SELECT org, rule_id, version, next_end_micros FROM alert_schedules
            WHERE due_at_micros <= @now AND (holder IS NULL OR lease_expires_micros < @now)
            ORDER BY due_at_micros LIMIT @n
            """, r => new Claim(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3)), ct, ("now", now),
            ("n", ClaimBatch));
        var claimed = new List<Claim>(due.Count);
        foreach (var c in due)
        {
            var n = await store.ExecuteAsync("""
                UPDATE alert_schedules SET holder = @h, lease_expires_micros = @lease
                WHERE org = @o AND rule_id = @r AND version = @v AND next_end_micros = @end
                    AND (holder IS NULL OR lease_expires_micros < @now)
                """, ct, ("h", holder), ("lease", now + Clock.Micros(settings.Current.Lease)), ("o", c.Org),
                ("r", c.RuleId), ("v", c.Version), ("end", c.NextEnd), ("now", now));
            if (n == 1) claimed.Add(c);
        }
        return claimed;
    }

    private async Task<int> EvaluateRuleAsync(Claim claim, string holder, CancellationToken ct)
    {
        var rule = await rules.GetAsync(claim.Org, claim.RuleId, ct);
        if (rule is null || rule.Version != claim.Version) return 0; // the save or delete replaced the schedule
        var w = new AlertWindows(rule.Spec);
        var s = settings.Current;
        var end = claim.NextEnd;
        var now = Clock.NowMicros(clock);
        // Windows behind past the catch-up bound are skipped (counted in the next window's ledger row).
        var behind = new List<long>();
        for (var e = end; e + w.Delay <= now && behind.Count <= 100_000; e = w.NextEnd(e)) behind.Add(e);
        var skipped = Math.Max(0, behind.Count - s.MaxCatchUpWindows);
        if (skipped > 0) AlertMetrics.SkippedWindows.Inc(skipped);
        var done = 0;
        for (var i = skipped; i < behind.Count; i++)
        {
            end = behind[i];
            var more = i + 1 < behind.Count;
            if (!await EvaluateWindowAsync(rule, w, end, holder, i == skipped ? skipped : 0, more, ct))
                break;
            claim = claim with { NextEnd = w.NextEnd(end) };
            done++;
        }
        if (behind.Count == 0) await ReleaseAsync(claim, holder, ct);
        return done;
    }

    /// <summary>Evaluates the window ending at <paramref name="end"/> and commits it; false when the claim was
    /// lost (another node or a save owns the rule now).</summary>
    private async Task<bool> EvaluateWindowAsync(AlertRule rule, AlertWindows w, long end,
        string holder, int skipped, bool keepClaim, CancellationToken ct)
    {
        var s = settings.Current;
        var start = end - w.Period;
        var began = Clock.NowMicros(clock);
        AlertMetrics.EvalLag.Observe(Math.Max(0, began - end - w.Delay) / 1e6);
        var watch = Stopwatch.StartNew();
        var result = await BoundedQuery.RunAsync(t => windows.EvaluateAsync(rule.Org, rule.Spec, start, end, t),
            s.EvalTimeout, ct);
        var groups = result.Value ?? [];
        var error = result.Error;
        if (result.TimedOut) AlertMetrics.EvalTimeouts.Inc();
        if (error is not null) AlertMetrics.EvalErrors.Inc();
        var fired = groups.Any(g => g.Fires is not null);
        var now = Clock.NowMicros(clock);
        var next = w.NextEnd(end);
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var held = await MetaStore.ExecuteInAsync(conn, tx, """
            UPDATE alert_schedules SET next_end_micros = @next, due_at_micros = @due,
                holder = @keep, lease_expires_micros = @lease
            WHERE org = @o AND rule_id = @r AND version = @v AND holder = @h AND lease_expires_micros >= @now
            """, ct, ("next", next), ("due", next + w.Delay), ("keep", keepClaim ? holder : null),
            ("lease", keepClaim ? now + Clock.Micros(s.Lease) : 0L), ("o", rule.Org), ("r", rule.Id),
            ("v", rule.Version), ("h", holder), ("now", now));
        if (held != 1)
        {
            await tx.RollbackAsync(ct);
            log?.LogInformation("alert rule {Rule}: claim lost before window {End} committed", rule.Id, end);
            return false;
        }
        var detail = AlertJson.Write(new
        {
            groups = groups.Select(g => new
            {
                key = g.GroupKey, value = double.IsFinite(g.Value) ? g.Value : (double?)null,
                fires = g.Fires is { } f ? AlertNames.Of(f) : null,
            }),
            skipped_windows = skipped,
        });
        await MetaStore.ExecuteInAsync(conn, tx, """
            INSERT INTO alert_evaluations (id, org, rule_id, window_start_micros, window_end_micros,
                evaluated_at_micros, evaluated_by, fired, detail, duration_ms, error)
            VALUES (@id, @o, @r, @start, @end, @now, @h, @fired, @detail, @ms, @error)
            """, ct, ("id", Guid.NewGuid().ToString("N")), ("o", rule.Org), ("r", rule.Id), ("start", start),
            ("end", end), ("now", now), ("h", holder), ("fired", fired ? 1 : 0), ("detail", detail),
            ("ms", watch.ElapsedMilliseconds), ("error", error));
        // A window that could not be evaluated says nothing about the incidents: they stay as they are.
        if (error is null) await IncidentTransitions.ApplyAsync(conn, tx, rule, start, end, groups, now, ct);
        await tx.CommitAsync(ct);
        AlertMetrics.Evaluations.WithLabels(error is not null ? "error" : fired ? "fired" : "quiet").Inc();
        return true;
    }

    private async Task ReleaseAsync(Claim c, string holder, CancellationToken ct) =>
        await store.ExecuteAsync("UPDATE alert_schedules SET holder = NULL, lease_expires_micros = 0 " +
            "WHERE org = @o AND rule_id = @r AND holder = @h", ct, ("o", c.Org), ("r", c.RuleId), ("h", holder));
}
