using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Alerts;

/// <summary>The JSON bodies of the alert API and their mapping to and from the engine's records (defaults of
/// fields left out are applied here).</summary>
public static class AlertBodies
{
    public sealed record ConditionBody(string? Column, string? Operator, double? Threshold, double? WarningThreshold);

    public sealed record RuleBody(string? Name, string? Stream, string? StreamType, string? Sql, int? PeriodSecs,
        int? FrequencySecs, string? Cron, string? Timezone, int? DelaySecs, ConditionBody? Condition,
        List<string>? GroupBy, int? SilenceSecs, int? ResolveAfterWindows, List<string>? Destinations, bool? Enabled,
        Dictionary<string, string>? Labels);

    public sealed record WebhookBody(string? Url, string? Method, Dictionary<string, string>? Headers,
        string? BodyTemplate, string? Preset);

    public sealed record EmailBody(string? Host, int? Port, bool? StartTls, string? User, string? Password,
        string? From, List<string>? To);

    public sealed record DestinationBody(string? Name, string? Kind, WebhookBody? Webhook, EmailBody? Email);

    public static AlertRuleSpec Spec(RuleBody b)
    {
        var c = b.Condition ?? throw Invalid("condition: is required");
        if (!AlertNames.TryParse(c.Operator ?? ">", out CompareOp op))
            throw Invalid("condition.operator: must be one of > >= < <= == !=");
        var period = b.PeriodSecs ?? b.FrequencySecs ?? 0;
        return new AlertRuleSpec(b.Name ?? "", b.StreamType ?? StreamKey.Logs, b.Stream ?? "", b.Sql ?? "", period,
            b.Cron is null ? b.FrequencySecs ?? period : b.FrequencySecs, b.Cron, b.Timezone ?? "UTC",
            b.DelaySecs ?? 0, new AlertCondition(c.Column, op, c.Threshold ?? throw Invalid(
                "condition.threshold: is required"), c.WarningThreshold), b.GroupBy ?? [], b.SilenceSecs ?? 0,
            b.ResolveAfterWindows ?? 1, b.Destinations ?? [], b.Enabled ?? true, b.Labels ?? []);
    }

    public static object Describe(AlertRule r)
    {
        var s = r.Spec;
        return new
        {
            id = r.Id, version = r.Version, updated_at = r.UpdatedAtMicros, name = s.Name, stream = s.Stream,
            stream_type = s.StreamType, sql = s.Sql, period_secs = s.PeriodSecs, frequency_secs = s.FrequencySecs,
            cron = s.Cron, timezone = s.Timezone, delay_secs = s.DelaySecs,
            condition = new
            {
                column = s.Condition.Column, @operator = AlertNames.Of(s.Condition.Operator),
                threshold = s.Condition.Threshold, warning_threshold = s.Condition.WarningThreshold,
            },
            group_by = s.GroupBy, silence_secs = s.SilenceSecs, resolve_after_windows = s.ResolveAfterWindows,
            destinations = s.Destinations, enabled = s.Enabled, labels = s.Labels,
        };
    }

    public static DestinationSpec Spec(DestinationBody b)
    {
        if (!AlertNames.TryParse(b.Kind ?? "webhook", out DestinationKind kind))
            throw Invalid("kind: must be webhook or email");
        var w = b.Webhook is { } wb
            ? new WebhookSpec(wb.Url ?? "", (wb.Method ?? "POST").ToUpperInvariant(), wb.Headers ?? [],
                wb.BodyTemplate, wb.Preset)
            : null;
        var e = b.Email is { } eb
            ? new EmailSpec(eb.Host ?? "", eb.Port ?? 25, eb.StartTls ?? false, eb.User, eb.Password, eb.From ?? "",
                eb.To ?? [])
            : null;
        return new DestinationSpec(b.Name ?? "", kind, w, e);
    }

    /// <summary>A destination as answered: secret references are shown as they are (they are not secrets),
    /// header values that are not references are hidden, as they may hold credentials.</summary>
    public static object Describe(Destination d)
    {
        var w = d.Spec.Webhook;
        var e = d.Spec.Email;
        return new
        {
            id = d.Id, name = d.Spec.Name, kind = AlertNames.Of(d.Spec.Kind), updated_at = d.UpdatedAtMicros,
            webhook = w is null ? null : new
            {
                url = w.Url, method = w.Method, body_template = w.BodyTemplate, preset = w.Preset,
                headers = w.Headers.ToDictionary(h => h.Key,
                    h => SecretReferences.IsReference(h.Value) ? h.Value : "***"),
            },
            email = e is null ? null : new
            {
                host = e.Host, port = e.Port, start_tls = e.StartTls, user = e.User, password = e.Password,
                from = e.From, to = e.To,
            },
        };
    }

    public static object Describe(Incident i) => new
    {
        id = i.Id, rule_id = i.RuleId, group_key = i.GroupKey, state = AlertNames.Of(i.State),
        severity = AlertNames.Of(i.Severity), value = i.Value, opened_at = i.OpenedAtMicros,
        last_fired_window_end = i.LastFiredEndMicros, acked_by = i.AckedBy, acked_at = i.AckedAtMicros,
        resolved_by = i.ResolvedBy, resolved_at = i.ResolvedAtMicros,
    };

    public static object Describe(Notification n) => new
    {
        id = n.Id, destination_id = n.DestinationId, @event = AlertNames.Of(n.Event), state = n.State,
        attempts = n.Attempts, last_error = n.LastError, created_at = n.CreatedAtMicros,
        delivered_at = n.DeliveredAtMicros,
    };

    public static object Describe(AlertEvaluation e) => new
    {
        id = e.Id, window_start = e.WindowStartMicros, window_end = e.WindowEndMicros,
        evaluated_at = e.EvaluatedAtMicros, evaluated_by = e.EvaluatedBy, fired = e.Fired,
        detail = System.Text.Json.JsonDocument.Parse(e.Detail).RootElement, duration_ms = e.DurationMs, error = e.Error,
    };

    public static object Describe(WindowOutcome w) => new
    {
        window_start = w.StartMicros, window_end = w.EndMicros, error = w.Error,
        fires = w.Groups.Any(g => g.Fires is not null),
        groups = w.Groups.Select(g => new
        {
            key = g.GroupKey, value = double.IsFinite(g.Value) ? g.Value : (double?)null,
            fires = g.Fires is { } f ? AlertNames.Of(f) : null,
        }),
    };

    private static AuthException Invalid(string message) => new(AuthErrorKind.Invalid, message);
}
