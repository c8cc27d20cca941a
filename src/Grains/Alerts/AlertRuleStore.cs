using System.Data.Common;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// The <c>alert_rules</c> table and the schedule each rule has: a save rebuilds the rule's schedule row in the
/// same transaction (a new version, the first window ending after now), so no rule is ever without one and a
/// claim taken on the old version cannot commit.
/// </summary>
public sealed class AlertRuleStore(MetaStore store, RuleValidation validation, WindowEvaluator windows,
    LiveSettings<AlertSettings> settings, TimeProvider clock) : IAlertRules
{
    public const int MaxBacktestWindows = 1000;

    public async Task<AlertRule> CreateAsync(string org, AlertRuleSpec spec, CancellationToken ct)
    {
        validation.Check(org, spec);
        var count = Convert.ToInt64(await store.ScalarAsync("SELECT count(*) FROM alert_rules WHERE org = @o", ct,
            ("o", org)));
        if (count >= settings.Current.MaxRulesPerOrg)
            throw new AuthException(AuthErrorKind.LimitReached,
                $"this org has {count} alert rules, the most it may have");
        var rule = new AlertRule(Guid.NewGuid().ToString("N"), org, 1, Clock.NowMicros(clock), spec);
        await SaveAsync(rule, insert: true, ct);
        return rule;
    }

    public async Task<AlertRule> UpdateAsync(string org, string id, AlertRuleSpec spec, CancellationToken ct)
    {
        validation.Check(org, spec);
        var old = await GetAsync(org, id, ct) ?? throw NotFound(id);
        var rule = old with { Version = old.Version + 1, UpdatedAtMicros = Clock.NowMicros(clock), Spec = spec };
        await SaveAsync(rule, insert: false, ct);
        return rule;
    }

    public async Task<AlertRule?> GetAsync(string org, string id, CancellationToken ct) =>
        (await store.ReadAsync("SELECT id, org, version, updated_at_micros, spec FROM alert_rules " +
            "WHERE org = @o AND id = @id", Map, ct, ("o", org), ("id", id))).FirstOrDefault();

    public async Task<IReadOnlyList<AlertRule>> ListAsync(string org, CancellationToken ct) =>
        await store.ReadAsync("SELECT id, org, version, updated_at_micros, spec FROM alert_rules WHERE org = @o " +
            "ORDER BY name, id", Map, ct, ("o", org));

    public async Task<bool> DeleteAsync(string org, string id, CancellationToken ct)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var n = await Exec(conn, tx, "DELETE FROM alert_rules WHERE org = @o AND id = @id", ct, ("o", org),
            ("id", id));
        await Exec(conn, tx, "DELETE FROM alert_schedules WHERE org = @o AND rule_id = @id", ct, ("o", org),
            ("id", id));
        await tx.CommitAsync(ct);
        return n == 1;
    }

    public async Task<IReadOnlyList<AlertEvaluation>> HistoryAsync(string org, string id, int limit,
        CancellationToken ct) =>
        await store.ReadAsync("""
            SELECT id, rule_id, window_start_micros, window_end_micros, evaluated_at_micros, evaluated_by, fired,
                detail, duration_ms, error
            FROM alert_evaluations WHERE org = @o AND rule_id = @id
            ORDER BY window_end_micros DESC, evaluated_at_micros DESC LIMIT @n
            """, r => new AlertEvaluation(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3),
            r.GetInt64(4), r.GetString(5), r.GetInt64(6) != 0, r.GetString(7), r.GetInt64(8),
            r.IsDBNull(9) ? null : r.GetString(9)),
            ct, ("o", org), ("id", id), ("n", Math.Clamp(limit, 1, 1000)));

    public async Task<IReadOnlyList<WindowOutcome>> BacktestAsync(string org, string id, long fromMicros,
        long toMicros, CancellationToken ct)
    {
        var rule = await GetAsync(org, id, ct) ?? throw NotFound(id);
        var w = new AlertWindows(rule.Spec);
        var outcomes = new List<WindowOutcome>();
        for (var end = w.NextEnd(fromMicros); end <= toMicros; end = w.NextEnd(end))
        {
            if (outcomes.Count == MaxBacktestWindows)
                throw new AuthException(AuthErrorKind.Invalid,
                    $"the range holds more than {MaxBacktestWindows} windows; choose a shorter one");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Current.EvalTimeout);
            try
            {
                outcomes.Add(new WindowOutcome(end - w.Period, end,
                    await windows.EvaluateAsync(org, rule.Spec, end - w.Period, end, timeout.Token), null));
            }
            catch (Exception e) when (AlertEvaluator.IsWindowError(e, ct))
            {
                outcomes.Add(new WindowOutcome(end - w.Period, end, [], timeout.IsCancellationRequested
                    ? "the query ran past eval_timeout_secs and was cancelled" : AlertEvaluator.Describe(e)));
            }
        }
        return outcomes;
    }

    private async Task SaveAsync(AlertRule rule, bool insert, CancellationToken ct)
    {
        await DestinationStore.RequireExistAsync(store, rule.Org, rule.Spec.Destinations, ct);
        var now = Clock.NowMicros(clock);
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        (string, object?)[] args = [("o", rule.Org), ("id", rule.Id), ("name", rule.Spec.Name),
            ("spec", AlertJson.Write(rule.Spec)), ("v", rule.Version), ("at", rule.UpdatedAtMicros)];
        var n = await Exec(conn, tx, insert
            ? "INSERT INTO alert_rules (org, id, name, spec, version, updated_at_micros) " +
              "VALUES (@o, @id, @name, @spec, @v, @at)"
            : "UPDATE alert_rules SET name = @name, spec = @spec, version = @v, updated_at_micros = @at " +
              "WHERE org = @o AND id = @id AND version = @v - 1", ct, args);
        if (n != 1) throw new AuthException(AuthErrorKind.Conflict, $"alert rule {rule.Id} changed meanwhile");
        await Exec(conn, tx, "DELETE FROM alert_schedules WHERE org = @o AND rule_id = @id", ct, args);
        if (rule.Spec.Enabled)
        {
            var w = new AlertWindows(rule.Spec);
            var end = w.NextEnd(now);
            await Exec(conn, tx, """
                INSERT INTO alert_schedules (org, rule_id, version, next_end_micros, due_at_micros, holder,
                    lease_expires_micros)
                VALUES (@o, @id, @v, @end, @due, NULL, 0)
                """, ct, [.. args, ("end", end), ("due", end + w.Delay)]);
        }
        await tx.CommitAsync(ct);
    }

    internal static async Task<int> Exec(DbConnection conn, DbTransaction tx, string sql, CancellationToken ct,
        params (string, object?)[] args)
    {
        await using var cmd = MetaStore.Command(conn, sql, args);
        cmd.Transaction = tx;
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static AlertRule Map(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt64(2),
        r.GetInt64(3), AlertJson.Read<AlertRuleSpec>(r.GetString(4)));

    private static AuthException NotFound(string id) =>
        new(AuthErrorKind.NotFound, $"no alert rule '{id}' in this org");
}
