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

    private static readonly SpecTable Table = SpecTable.Rules;

    public async Task<AlertRule> CreateAsync(string org, AlertRuleSpec spec, CancellationToken ct)
    {
        validation.Check(org, spec);
        await Table.EnsureRoomAsync(store, org, settings.Current.MaxRulesPerOrg, ct);
        var rule = new AlertRule(Guid.NewGuid().ToString("N"), org, 1, Clock.NowMicros(clock), spec);
        await SaveAsync(rule, ct);
        return rule;
    }

    public async Task<AlertRule> UpdateAsync(string org, string id, AlertRuleSpec spec, CancellationToken ct)
    {
        validation.Check(org, spec);
        var old = await GetAsync(org, id, ct) ?? throw NotFound(id);
        var rule = old with { Version = old.Version + 1, UpdatedAtMicros = Clock.NowMicros(clock), Spec = spec };
        await SaveAsync(rule, ct);
        return rule;
    }

    public async Task<AlertRule?> GetAsync(string org, string id, CancellationToken ct) =>
        await Table.GetAsync(store, org, id, ct) is { } row ? Map(row) : null;

    public async Task<IReadOnlyList<AlertRule>> ListAsync(string org, CancellationToken ct) =>
        (await Table.ListAsync(store, org, ct)).Select(Map).ToList();

    public Task<bool> DeleteAsync(string org, string id, CancellationToken ct) =>
        Table.DeleteAsync(store, org, id, ct);

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
            var start = end - w.Period;
            var result = await BoundedQuery.RunAsync(t => windows.EvaluateAsync(org, rule.Spec, start, end, t),
                settings.Current.EvalTimeout, ct);
            outcomes.Add(new WindowOutcome(start, end, result.Value ?? [], result.Error));
        }
        return outcomes;
    }

    private async Task SaveAsync(AlertRule rule, CancellationToken ct)
    {
        await DestinationStore.RequireExistAsync(store, rule.Org, rule.Spec.Destinations, ct);
        var w = new AlertWindows(rule.Spec);
        var end = w.NextEnd(Clock.NowMicros(clock));
        await Table.SaveAsync(store, new SpecTable.Row(rule.Id, rule.Org, rule.Version, rule.UpdatedAtMicros,
            AlertJson.Write(rule.Spec)), rule.Spec.Name, !rule.Spec.Enabled ? null : (conn, tx) =>
            MetaStore.ExecuteInAsync(conn, tx, """
                INSERT INTO alert_schedules (org, rule_id, version, next_end_micros, due_at_micros, holder,
                    lease_expires_micros)
                VALUES (@o, @id, @v, @end, @due, NULL, 0)
                """, ct, ("o", rule.Org), ("id", rule.Id), ("v", rule.Version), ("end", end),
                ("due", end + w.Delay)), ct);
    }

    private static AlertRule Map(SpecTable.Row r) =>
        new(r.Id, r.Org, r.Version, r.UpdatedAtMicros, AlertJson.Read<AlertRuleSpec>(r.Spec));

    private static AuthException NotFound(string id) =>
        new(AuthErrorKind.NotFound, $"no alert rule '{id}' in this org");
}
