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

    private static readonly SpecTable Table = SpecTable.Reports;

    public async Task<Report> CreateAsync(string org, ReportSpec spec, CancellationToken ct)
    {
        Check(org, spec);
        await Table.EnsureRoomAsync(store, org, MaxReportsPerOrg, ct);
        var report = new Report(Guid.NewGuid().ToString("N"), org, 1, Clock.NowMicros(clock), spec);
        await SaveAsync(report, ct);
        return report;
    }

    public async Task<Report> UpdateAsync(string org, string id, ReportSpec spec, CancellationToken ct)
    {
        Check(org, spec);
        var old = await GetAsync(org, id, ct) ?? throw NotFound(id);
        var report = old with { Version = old.Version + 1, UpdatedAtMicros = Clock.NowMicros(clock), Spec = spec };
        await SaveAsync(report, ct);
        return report;
    }

    public async Task<Report?> GetAsync(string org, string id, CancellationToken ct) =>
        await Table.GetAsync(store, org, id, ct) is { } row ? Map(row) : null;

    public async Task<IReadOnlyList<Report>> ListAsync(string org, CancellationToken ct) =>
        (await Table.ListAsync(store, org, ct)).Select(Map).ToList();

    public Task<bool> DeleteAsync(string org, string id, CancellationToken ct) =>
        Table.DeleteAsync(store, org, id, ct);

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

    private async Task SaveAsync(Report report, CancellationToken ct)
    {
        await DestinationStore.RequireExistAsync(store, report.Org, report.Spec.Destinations, ct);
        var next = Schedule(report.Spec).NextEnd(Clock.NowMicros(clock));
        await Table.SaveAsync(store, new SpecTable.Row(report.Id, report.Org, report.Version, report.UpdatedAtMicros,
            AlertJson.Write(report.Spec)), report.Spec.Name, !report.Spec.Enabled ? null : (conn, tx) =>
            MetaStore.ExecuteInAsync(conn, tx, """
                INSERT INTO report_schedules (org, report_id, version, next_run_micros, holder, lease_expires_micros)
                VALUES (@o, @id, @v, @next, NULL, 0)
                """, ct, ("o", report.Org), ("id", report.Id), ("v", report.Version), ("next", next)), ct);
    }

    public static AlertWindows Schedule(ReportSpec s) => new(s.Cron, s.Timezone, 0, s.RangeSecs, 0);

    private static Report Map(SpecTable.Row r) =>
        new(r.Id, r.Org, r.Version, r.UpdatedAtMicros, AlertJson.Read<ReportSpec>(r.Spec));

    private static AuthException NotFound(string id) => new(AuthErrorKind.NotFound, $"no report '{id}' in this org");
}
