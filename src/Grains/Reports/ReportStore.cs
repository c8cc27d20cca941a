using System.Data.Common;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Alerts;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using static MoleSignal.Grains.Alerts.RuleValidation;

namespace MoleSignal.Grains.Reports;

/// <summary>
/// Scheduled reports (<c>alert_reports</c>) and their runs. A save rebuilds the report's schedule in the same
/// transaction (the first occurrence after now), as for rules.
/// </summary>
public sealed class ReportStore(MetaStore store, RuleValidation validation, IObjectStore objects,
    TimeProvider clock) : IReports
{
    public const int MaxReportsPerOrg = 100, MaxQueries = 10, MaxRangeSecs = 31 * 86400;

    public async Task<Report> CreateAsync(string org, ReportSpec spec, CancellationToken ct)
    {
        Check(org, spec);
        var count = Convert.ToInt64(await store.ScalarAsync("SELECT count(*) FROM alert_reports WHERE org = @o", ct,
            ("o", org)));
        if (count >= MaxReportsPerOrg)
            throw new AuthException(AuthErrorKind.LimitReached, $"this org has {count} reports, the most it may have");
        var report = new Report(Guid.NewGuid().ToString("N"), org, 1, Clock.NowMicros(clock), spec);
        await SaveAsync(report, insert: true, ct);
        return report;
    }

    public async Task<Report> UpdateAsync(string org, string id, ReportSpec spec, CancellationToken ct)
    {
        Check(org, spec);
        var old = await GetAsync(org, id, ct) ?? throw NotFound(id);
        var report = old with { Version = old.Version + 1, UpdatedAtMicros = Clock.NowMicros(clock), Spec = spec };
        await SaveAsync(report, insert: false, ct);
        return report;
    }

    public async Task<Report?> GetAsync(string org, string id, CancellationToken ct) =>
        (await store.ReadAsync("SELECT id, org, version, updated_at_micros, spec FROM alert_reports " +
            "WHERE org = @o AND id = @id", Map, ct, ("o", org), ("id", id))).FirstOrDefault();

    public async Task<IReadOnlyList<Report>> ListAsync(string org, CancellationToken ct) =>
        await store.ReadAsync("SELECT id, org, version, updated_at_micros, spec FROM alert_reports WHERE org = @o " +
            "ORDER BY name, id", Map, ct, ("o", org));

    public async Task<bool> DeleteAsync(string org, string id, CancellationToken ct)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var n = await AlertRuleStore.Exec(conn, tx, "DELETE FROM alert_reports WHERE org = @o AND id = @id", ct,
            ("o", org), ("id", id));
        await AlertRuleStore.Exec(conn, tx, "DELETE FROM report_schedules WHERE org = @o AND report_id = @id", ct,
            ("o", org), ("id", id));
        await tx.CommitAsync(ct);
        return n == 1;
    }

    public async Task<IReadOnlyList<ReportRun>> RunsAsync(string org, string id, int limit, CancellationToken ct) =>
        await store.ReadAsync("""
            SELECT id, report_id, run_at_micros, formats, note, error, created_at_micros FROM report_runs
            WHERE org = @o AND report_id = @id ORDER BY run_at_micros DESC LIMIT @n
            """, r => new ReportRun(r.GetString(0), r.GetString(1), r.GetInt64(2), Formats(r.GetString(3)),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetInt64(6)), ct,
            ("o", org), ("id", id), ("n", Math.Clamp(limit, 1, 1000)));

    public async Task<byte[]?> FileAsync(string org, string id, string runId, ReportFormat format,
        CancellationToken ct)
    {
        var run = (await store.ReadAsync("SELECT run_at_micros, formats FROM report_runs " +
            "WHERE org = @o AND report_id = @r AND id = @id", r => (r.GetInt64(0), Formats(r.GetString(1))), ct,
            ("o", org), ("r", id), ("id", runId))).FirstOrDefault();
        if (run.Item2 is null || !run.Item2.Contains(format)) return null;
        return await objects.GetAsync(ObjectKey.ReportFile(org, id, run.Item1, ReportNames.Of(format)), ct);
    }

    public static string FormatList(IEnumerable<ReportFormat> formats) => string.Join(',',
        formats.Select(ReportNames.Of));

    private static List<ReportFormat> Formats(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(f => ReportNames.TryParse(f, out ReportFormat v) ? v : ReportFormat.Svg).ToList();

    private void Check(string org, ReportSpec s)
    {
        Require(!string.IsNullOrWhiteSpace(s.Name) && s.Name.Length <= MaxNameLength, "name",
            $"must be 1 to {MaxNameLength} characters");
        CheckCron(s.Cron, s.Timezone);
        Require(s.RangeSecs is > 0 and <= MaxRangeSecs, "range_secs", $"must be 1 to {MaxRangeSecs}");
        Require(s.Queries.Count is > 0 and <= MaxQueries, "queries", $"must hold 1 to {MaxQueries}");
        Require(s.Destinations.Count <= MaxDestinations, "destinations", $"holds at most {MaxDestinations}");
        for (var i = 0; i < s.Queries.Count; i++)
        {
            Require(s.Queries[i].Title.Length <= MaxNameLength, $"queries[{i}].title",
                $"is at most {MaxNameLength} characters");
            validation.CheckSql(org, s.Queries[i].Sql, $"queries[{i}].sql");
        }
    }

    private async Task SaveAsync(Report report, bool insert, CancellationToken ct)
    {
        await DestinationStore.RequireExistAsync(store, report.Org, report.Spec.Destinations, ct);
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        (string, object?)[] args = [("o", report.Org), ("id", report.Id), ("name", report.Spec.Name),
            ("spec", AlertJson.Write(report.Spec)), ("v", report.Version), ("at", report.UpdatedAtMicros)];
        var n = await AlertRuleStore.Exec(conn, tx, insert
            ? "INSERT INTO alert_reports (org, id, name, spec, version, updated_at_micros) " +
              "VALUES (@o, @id, @name, @spec, @v, @at)"
            : "UPDATE alert_reports SET name = @name, spec = @spec, version = @v, updated_at_micros = @at " +
              "WHERE org = @o AND id = @id AND version = @v - 1", ct, args);
        if (n != 1) throw new AuthException(AuthErrorKind.Conflict, $"report {report.Id} changed meanwhile");
        await AlertRuleStore.Exec(conn, tx, "DELETE FROM report_schedules WHERE org = @o AND report_id = @id", ct,
            args);
        if (report.Spec.Enabled)
            await AlertRuleStore.Exec(conn, tx, """
                INSERT INTO report_schedules (org, report_id, version, next_run_micros, holder, lease_expires_micros)
                VALUES (@o, @id, @v, @next, NULL, 0)
                """, ct, [.. args, ("next", Schedule(report.Spec).NextEnd(Clock.NowMicros(clock)))]);
        await tx.CommitAsync(ct);
    }

    public static AlertWindows Schedule(ReportSpec s) => new(s.Cron, s.Timezone, 0, s.RangeSecs, 0);

    private static Report Map(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3),
        AlertJson.Read<ReportSpec>(r.GetString(4)));

    private static AuthException NotFound(string id) => new(AuthErrorKind.NotFound, $"no report '{id}' in this org");
}
