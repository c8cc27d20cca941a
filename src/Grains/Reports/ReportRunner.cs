using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Alerts;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Reports;

/// <summary>
/// One pass of the report tick: claims the reports whose next run is due (as rule windows are claimed), runs each
/// report's queries over the range before the run, renders the SVG (and PNG/PDF through Chromium when it is
/// configured), stores the files under the run's own keys, then commits the schedule's advance, the
/// <c>report_runs</c> row and the notifications in one transaction. A run redone after a crash overwrites its own
/// files and, (report, run) being unique, is never sent twice. Of several missed runs only the latest is made.
/// </summary>
public sealed class ReportRunner(MetaStore store, ReportStore reports, IQueryService queries, IObjectStore objects,
    ChromiumRenderer chromium, LiveSettings<AlertSettings> settings, TimeProvider clock)
{
    public const int MaxRows = 10_000;

    private sealed record Claim(string Org, string ReportId, long Version, long NextRun);

    public async Task<int> RunOnceAsync(string holder, CancellationToken ct)
    {
        var now = Clock.NowMicros(clock);
        var due = await store.ReadAsync("""
            SELECT org, report_id, version, next_run_micros FROM report_schedules
            WHERE next_run_micros <= @now AND (holder IS NULL OR lease_expires_micros < @now)
            ORDER BY next_run_micros LIMIT 50
            """, r => new Claim(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3)), ct, ("now", now));
        var made = 0;
        foreach (var c in due)
        {
            var n = await store.ExecuteAsync("""
                UPDATE report_schedules SET holder = @h, lease_expires_micros = @lease
                WHERE org = @o AND report_id = @r AND version = @v AND (holder IS NULL OR lease_expires_micros < @now)
                """, ct, ("h", holder), ("lease", now + Clock.Micros(settings.Current.Lease)), ("o", c.Org),
                ("r", c.ReportId), ("v", c.Version), ("now", now));
            if (n == 1 && await RunAsync(c, holder, ct)) made++;
        }
        return made;
    }

    private async Task<bool> RunAsync(Claim claim, string holder, CancellationToken ct)
    {
        var report = await reports.GetAsync(claim.Org, claim.ReportId, ct);
        if (report is null || report.Version != claim.Version) return false;
        var schedule = ReportStore.Schedule(report.Spec);
        var now = Clock.NowMicros(clock);
        var run = claim.NextRun;
        for (var i = 0; i < 100_000 && schedule.NextEnd(run) <= now; i++) run = schedule.NextEnd(run);
        var from = run - report.Spec.RangeSecs * 1_000_000L;
        var charts = new List<ChartData>();
        foreach (var q in report.Spec.Queries) charts.Add(await QueryAsync(report.Org, q, from, run, ct));
        var svg = ReportSvg.Render(report.Spec.Name, from, run, charts);
        var formats = new List<ReportFormat> { ReportFormat.Svg };
        await objects.PutAsync(ObjectKey.ReportFile(report.Org, report.Id, run, "svg"),
            System.Text.Encoding.UTF8.GetBytes(svg), ct);
        var (png, pdf, note) = await chromium.RenderAsync(svg, ReportSvg.Width, ReportSvg.Height(charts.Count), ct);
        if (png is not null)
        {
            await objects.PutAsync(ObjectKey.ReportFile(report.Org, report.Id, run, "png"), png, ct);
            formats.Add(ReportFormat.Png);
        }
        if (pdf is not null)
        {
            await objects.PutAsync(ObjectKey.ReportFile(report.Org, report.Id, run, "pdf"), pdf, ct);
            formats.Add(ReportFormat.Pdf);
        }
        var errors = charts.Where(c => c.Error is not null).Select(c => $"{c.Query.Title}: {c.Error}").ToList();
        return await CommitAsync(report, run, formats, note, errors.Count == 0 ? null : string.Join("; ", errors),
            holder, schedule.NextEnd(run), ct);
    }

    private async Task<ChartData> QueryAsync(string org, ReportQuery q, long from, long to, CancellationToken ct)
    {
        var result = await BoundedQuery.RunAsync(async t =>
        {
            await using var cursor = await queries.OpenAsync(new QueryRequest(org, q.Sql, from, to, MaxRows), t);
            var rows = new List<object?[]>();
            await foreach (var row in cursor.ReadRowsAsync(t))
            {
                rows.Add(row);
                if (rows.Count == MaxRows) break;
            }
            return new ChartData(q, cursor.Columns, rows, null);
        }, settings.Current.EvalTimeout, ct);
        return result.Value ?? new ChartData(q, [], [], result.Error);
    }

    private async Task<bool> CommitAsync(Report report, long run, List<ReportFormat> formats, string? note,
        string? error, string holder, long next, CancellationToken ct)
    {
        var now = Clock.NowMicros(clock);
        var runId = Guid.NewGuid().ToString("N");
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var held = await MetaStore.ExecuteInAsync(conn, tx, """
            UPDATE report_schedules SET next_run_micros = @next, holder = NULL, lease_expires_micros = 0
            WHERE org = @o AND report_id = @r AND version = @v AND holder = @h AND lease_expires_micros >= @now
            """, ct, ("next", next), ("o", report.Org), ("r", report.Id), ("v", report.Version), ("h", holder),
            ("now", now));
        if (held != 1)
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        await MetaStore.ExecuteInAsync(conn, tx, """
            INSERT INTO report_runs (id, org, report_id, run_at_micros, formats, note, error, created_at_micros)
            VALUES (@id, @o, @r, @run, @f, @note, @error, @now)
            """, ct, ("id", runId), ("o", report.Org), ("r", report.Id), ("run", run),
            ("f", ReportStore.FormatList(formats)), ("note", note), ("error", error), ("now", now));
        var payload = AlertJson.Write(new Dictionary<string, object?>
        {
            ["event"] = "report", ["org"] = report.Org, ["report_id"] = report.Id, ["rule_name"] = report.Spec.Name,
            ["run_id"] = runId, ["run_at"] = run, ["formats"] = formats.Select(ReportNames.Of).ToList(),
            ["files"] = formats.Select(f => new
            {
                format = ReportNames.Of(f),
                url = $"/api/v1/reports/{report.Id}/runs/{runId}/file?format={ReportNames.Of(f)}",
            }).ToList(),
            ["note"] = note, ["error"] = error,
        });
        await Outbox.AddAsync(conn, tx, report.Org, runId, report.Spec.Destinations, AlertEvent.Report, payload, now,
            ct);
        await tx.CommitAsync(ct);
        return true;
    }
}
