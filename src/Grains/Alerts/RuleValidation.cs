using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Query;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// What a rule must be to be saved: bounded fields, a schedule that has a next window, and SQL that the query
/// sandbox accepts and that reads the rule's stream. A bad rule is refused naming its field.
/// </summary>
public sealed class RuleValidation(OrgEngines engines)
{
    public const int MaxSqlBytes = 16 * 1024, MaxNameLength = 256, MaxGroupBy = 8, MaxDestinations = 16,
        MaxLabels = 32, MaxPeriodSecs = 31 * 86400, MaxDelaySecs = 86400;

    public void Check(string org, AlertRuleSpec s)
    {
        Require(!string.IsNullOrWhiteSpace(s.Name) && s.Name.Length <= MaxNameLength, "name",
            $"must be 1 to {MaxNameLength} characters");
        Require(Array.IndexOf(StreamKey.Types, s.StreamType) >= 0, "stream_type",
            $"must be one of {string.Join(", ", StreamKey.Types)}");
        Require(!string.IsNullOrWhiteSpace(s.Stream), "stream", "is required");
        Require(s.PeriodSecs is > 0 and <= MaxPeriodSecs, "period_secs", $"must be 1 to {MaxPeriodSecs}");
        Require(s.DelaySecs is >= 0 and <= MaxDelaySecs, "delay_secs", $"must be 0 to {MaxDelaySecs}");
        Require(s.SilenceSecs >= 0, "silence_secs", "must not be negative");
        Require(s.ResolveAfterWindows is >= 1 and <= 1000, "resolve_after_windows", "must be 1 to 1000");
        Require(s.GroupBy.Count <= MaxGroupBy, "group_by", $"holds at most {MaxGroupBy} columns");
        Require(s.Destinations.Count <= MaxDestinations, "destinations", $"holds at most {MaxDestinations}");
        Require(s.Labels.Count <= MaxLabels, "labels", $"holds at most {MaxLabels}");
        Require(double.IsFinite(s.Condition.Threshold), "condition.threshold", "must be a number");
        CheckSchedule(s);
        CheckSql(org, s);
    }

    private static void CheckSchedule(AlertRuleSpec s)
    {
        if (s.Cron is { } cron)
        {
            Require(s.FrequencySecs is null, "cron", "and frequency_secs exclude each other");
            CheckCron(cron, s.Timezone);
        }
        else Require(s.FrequencySecs is null or (> 0 and <= MaxPeriodSecs), "frequency_secs",
            $"must be 1 to {MaxPeriodSecs}");
    }

    /// <summary>A cron expression (5 or 6 fields) and an IANA zone, refused naming <c>cron</c> or
    /// <c>timezone</c>.</summary>
    public static void CheckCron(string cron, string timezone)
    {
        try
        {
            AlertWindows.Parse(cron);
        }
        catch (Exception e) when (e is Cronos.CronFormatException or ArgumentException)
        {
            throw Invalid("cron", e.Message);
        }
        try
        {
            AlertWindows.Zone(timezone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw Invalid("timezone", $"'{timezone}' is not an IANA time zone");
        }
    }

    private void CheckSql(string org, AlertRuleSpec s)
    {
        var shape = CheckSql(org, s.Sql, "sql");
        Require(shape.Tables.Any(t => t.Type == s.StreamType && t.Name == s.Stream), "sql",
            $"must read the rule's stream {s.StreamType}/{s.Stream}");
    }

    /// <summary>SQL the query sandbox accepts (one SELECT, no files, settings or network), refused naming
    /// <paramref name="field"/>.</summary>
    public SqlShape CheckSql(string org, string sql, string field)
    {
        Require(!string.IsNullOrWhiteSpace(sql) && System.Text.Encoding.UTF8.GetByteCount(sql) <= MaxSqlBytes,
            field, $"is required and at most {MaxSqlBytes} bytes");
        try
        {
            using var conn = engines.Connect(org);
            return SqlInspector.Inspect(conn, sql);
        }
        catch (QueryException e)
        {
            throw Invalid(field, e.Message);
        }
    }

    public static void Require(bool ok, string field, string rule)
    {
        if (!ok) throw Invalid(field, rule);
    }

    public static AuthException Invalid(string field, string rule) =>
        new(AuthErrorKind.Invalid, $"{field}: {rule}");
}
