namespace MoleSignal.Grains.Abstractions.Alerts;

/// <summary>How a rule's value is compared with its threshold.</summary>
public enum CompareOp : byte { Greater, GreaterOrEqual, Less, LessOrEqual, Equal, NotEqual }

public enum IncidentState : byte { Open, Acknowledged, Resolved }

public enum Severity : byte { Critical, Warning }

public enum DestinationKind : byte { Webhook, Email }

/// <summary>Why a notification is sent: an incident opened (or is reminded of), it resolved, or a report ran.
/// </summary>
public enum AlertEvent : byte { Firing, Resolved, Report }

/// <summary>The names these enums have in the API and the tables: their one home.</summary>
public static class AlertNames
{
    private static readonly string[] Ops = [">", ">=", "<", "<=", "==", "!="];

    public static string Of(CompareOp op) => Ops[(int)op];

    public static bool TryParse(string? s, out CompareOp op)
    {
        var i = Array.IndexOf(Ops, s);
        op = (CompareOp)Math.Max(i, 0);
        return i >= 0;
    }

    public static bool Holds(CompareOp op, double value, double threshold) => op switch
    {
        CompareOp.Greater => value > threshold,
        CompareOp.GreaterOrEqual => value >= threshold,
        CompareOp.Less => value < threshold,
        CompareOp.LessOrEqual => value <= threshold,
        CompareOp.Equal => value == threshold,
        _ => value != threshold,
    };

    public static string Of(IncidentState s) => s switch
    {
        IncidentState.Open => "open",
        IncidentState.Acknowledged => "acknowledged",
        _ => "resolved",
    };

    public static IncidentState State(string s) => s switch
    {
        "open" => IncidentState.Open,
        "acknowledged" => IncidentState.Acknowledged,
        _ => IncidentState.Resolved,
    };

    public static string Of(Severity s) => s == Severity.Critical ? "critical" : "warning";

    public static Severity SeverityOf(string s) => s == "warning" ? Severity.Warning : Severity.Critical;

    public static string Of(DestinationKind k) => k == DestinationKind.Webhook ? "webhook" : "email";

    public static bool TryParse(string? s, out DestinationKind k)
    {
        k = s == "email" ? DestinationKind.Email : DestinationKind.Webhook;
        return s is "webhook" or "email";
    }

    public static string Of(AlertEvent e) => e switch
    {
        AlertEvent.Firing => "firing",
        AlertEvent.Resolved => "resolved",
        _ => "report",
    };

    public static AlertEvent EventOf(string s) => s switch
    {
        "firing" => AlertEvent.Firing,
        "resolved" => AlertEvent.Resolved,
        _ => AlertEvent.Report,
    };
}

/// <summary>
/// A rule's condition: on the number of result rows of a group (<see cref="Column"/> null) or on a numeric
/// column of the result; <see cref="WarningThreshold"/>, when set, fires with warning severity.
/// </summary>
public sealed record AlertCondition(string? Column, CompareOp Operator, double Threshold, double? WarningThreshold);

/// <summary>
/// What a user saves. Windows of <see cref="PeriodSecs"/> end every <see cref="FrequencySecs"/> (aligned to the
/// epoch) or at each <see cref="Cron"/> occurrence in <see cref="Timezone"/>, and are evaluated
/// <see cref="DelaySecs"/> after their end, for late data.
/// </summary>
public sealed record AlertRuleSpec(
    string Name,
    string StreamType,
    string Stream,
    string Sql,
    int PeriodSecs,
    int? FrequencySecs,
    string? Cron,
    string Timezone,
    int DelaySecs,
    AlertCondition Condition,
    IReadOnlyList<string> GroupBy,
    int SilenceSecs,
    int ResolveAfterWindows,
    IReadOnlyList<string> Destinations,
    bool Enabled,
    IReadOnlyDictionary<string, string> Labels);

public sealed record AlertRule(string Id, string Org, long Version, long UpdatedAtMicros, AlertRuleSpec Spec);

/// <summary>A webhook: header values may be secret references (<c>cipher_keys:&lt;id&gt;</c>, <c>env:VAR</c>);
/// the body is <see cref="BodyTemplate"/> with <c>{{field}}</c> replaced, the preset's, or the event's JSON.
/// </summary>
public sealed record WebhookSpec(string Url, string Method, IReadOnlyDictionary<string, string> Headers,
    string? BodyTemplate, string? Preset);

/// <summary>An SMTP destination; <see cref="Password"/> is a secret reference.</summary>
public sealed record EmailSpec(string Host, int Port, bool StartTls, string? User, string? Password, string From,
    IReadOnlyList<string> To);

public sealed record DestinationSpec(string Name, DestinationKind Kind, WebhookSpec? Webhook, EmailSpec? Email);

public sealed record Destination(string Id, string Org, long UpdatedAtMicros, DestinationSpec Spec);

/// <summary>One evaluated window of a rule: the ledger row behind "why did it (not) fire".</summary>
public sealed record AlertEvaluation(string Id, string RuleId, long WindowStartMicros, long WindowEndMicros,
    long EvaluatedAtMicros, string EvaluatedBy, bool Fired, string Detail, long DurationMs, string? Error);

public sealed record Incident(string Id, string Org, string RuleId, string GroupKey, IncidentState State,
    Severity Severity, double? Value, long OpenedAtMicros, long LastFiredEndMicros, string? AckedBy,
    long? AckedAtMicros, string? ResolvedBy, long? ResolvedAtMicros);

/// <summary>One notification of an incident: its key (the Idempotency-Key of every attempt) and how it went.
/// </summary>
public sealed record Notification(string Id, string DestinationId, AlertEvent Event, string State, int Attempts,
    string? LastError, long CreatedAtMicros, long? DeliveredAtMicros);

/// <summary>A group's value in a window and the severity it fires with (null: it does not fire).</summary>
public sealed record GroupValue(string GroupKey, double Value, Severity? Fires);

/// <summary>A backtested window: what the rule would have seen and fired, nothing notified.</summary>
public sealed record WindowOutcome(long StartMicros, long EndMicros, IReadOnlyList<GroupValue> Groups, string? Error);

/// <summary>Rules of an org. Invalid input throws <c>AuthException</c> of kind Invalid naming the field.</summary>
public interface IAlertRules
{
    Task<AlertRule> CreateAsync(string org, AlertRuleSpec spec, CancellationToken ct);
    Task<AlertRule> UpdateAsync(string org, string id, AlertRuleSpec spec, CancellationToken ct);
    Task<AlertRule?> GetAsync(string org, string id, CancellationToken ct);
    Task<IReadOnlyList<AlertRule>> ListAsync(string org, CancellationToken ct);
    Task<bool> DeleteAsync(string org, string id, CancellationToken ct);
    Task<IReadOnlyList<AlertEvaluation>> HistoryAsync(string org, string id, int limit, CancellationToken ct);
    /// <summary>The rule's windows ending in (from, to], evaluated as the evaluator would; nothing notified.
    /// </summary>
    Task<IReadOnlyList<WindowOutcome>> BacktestAsync(string org, string id, long fromMicros, long toMicros,
        CancellationToken ct);
}

public interface IAlertDestinations
{
    Task<Destination> CreateAsync(string org, DestinationSpec spec, CancellationToken ct);
    Task<Destination> UpdateAsync(string org, string id, DestinationSpec spec, CancellationToken ct);
    Task<Destination?> GetAsync(string org, string id, CancellationToken ct);
    Task<IReadOnlyList<Destination>> ListAsync(string org, CancellationToken ct);
    Task<bool> DeleteAsync(string org, string id, CancellationToken ct);
    /// <summary>Sends a test message now; the error, or null when it was delivered.</summary>
    Task<string?> TestAsync(string org, string id, CancellationToken ct);
}

public interface IIncidents
{
    Task<IReadOnlyList<Incident>> ListAsync(string org, IncidentState? state, int limit, CancellationToken ct);
    Task<Incident?> GetAsync(string org, string id, CancellationToken ct);
    Task<IReadOnlyList<Notification>> NotificationsAsync(string org, string incidentId, CancellationToken ct);
    /// <summary>The incident after the change, or null when not found; acknowledging a resolved one is a
    /// conflict.</summary>
    Task<Incident?> AcknowledgeAsync(string org, string id, string who, CancellationToken ct);
    Task<Incident?> ResolveAsync(string org, string id, string who, CancellationToken ct);
}
