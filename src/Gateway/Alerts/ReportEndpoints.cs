using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Alerts;

/// <summary><c>/api/v1/reports</c>: scheduled reports (read to see, write to change), their runs and files.</summary>
public static class ReportEndpoints
{
    public sealed record QueryBody(string? Title, string? Sql, string? Chart);

    public sealed record ReportBody(string? Name, string? Cron, string? Timezone, List<QueryBody>? Queries,
        int? RangeSecs, List<string>? Destinations, bool? Enabled);

    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/reports", List).Requires(Permission.Read);
        app.MapPost("/api/v1/reports", Create).Requires(Permission.Write);
        app.MapGet("/api/v1/reports/{id}", Get).Requires(Permission.Read);
        app.MapPut("/api/v1/reports/{id}", Update).Requires(Permission.Write);
        app.MapDelete("/api/v1/reports/{id}", Delete).Requires(Permission.Write);
        app.MapGet("/api/v1/reports/{id}/runs", Runs).Requires(Permission.Read);
        app.MapGet("/api/v1/reports/{id}/runs/{run}/file", File).Requires(Permission.Read);
        return app;
    }

    private static string Org(HttpContext ctx) => OrgHeader.Current(ctx.Request);

    private static IResult Json(object value, int status = 200) =>
        Results.Json(value, GatewayJson.Options, statusCode: status);

    private static AuthException NotFound(string id) => new(AuthErrorKind.NotFound, $"no report '{id}' in this org");

    public static ReportSpec Spec(ReportBody b)
    {
        var queries = new List<ReportQuery>();
        foreach (var (q, i) in (b.Queries ?? []).Select((q, i) => (q, i)))
        {
            if (!ReportNames.TryParse(q.Chart ?? "line", out ChartKind chart))
                throw new AuthException(AuthErrorKind.Invalid, $"queries[{i}].chart: must be line, bar or table");
            queries.Add(new ReportQuery(q.Title ?? $"query {i + 1}", q.Sql ?? "", chart));
        }
        return new ReportSpec(b.Name ?? "", b.Cron ?? "", b.Timezone ?? "UTC", queries, b.RangeSecs ?? 86400,
            b.Destinations ?? [], b.Enabled ?? true);
    }

    public static object Describe(Report r) => new
    {
        id = r.Id, version = r.Version, updated_at = r.UpdatedAtMicros, name = r.Spec.Name, cron = r.Spec.Cron,
        timezone = r.Spec.Timezone, range_secs = r.Spec.RangeSecs, destinations = r.Spec.Destinations,
        enabled = r.Spec.Enabled,
        queries = r.Spec.Queries.Select(q => new { title = q.Title, sql = q.Sql, chart = ReportNames.Of(q.Chart) }),
    };

    private static object Describe(ReportRun r) => new
    {
        id = r.Id, run_at = r.RunAtMicros, formats = r.Formats.Select(ReportNames.Of), note = r.Note, error = r.Error,
        created_at = r.CreatedAtMicros,
    };

    private static async Task<IResult> List(HttpContext ctx, IReports reports, CancellationToken ct) =>
        Json(new { reports = (await reports.ListAsync(Org(ctx), ct)).Select(Describe) });

    private static async Task<IResult> Create(HttpContext ctx, IReports reports, CancellationToken ct) =>
        Json(Describe(await reports.CreateAsync(Org(ctx),
            Spec(await AdminBody.ReadAsync<ReportBody>(ctx.Request, ct)), ct)), 201);

    private static async Task<IResult> Get(string id, HttpContext ctx, IReports reports, CancellationToken ct) =>
        Json(Describe(await reports.GetAsync(Org(ctx), id, ct) ?? throw NotFound(id)));

    private static async Task<IResult> Update(string id, HttpContext ctx, IReports reports, CancellationToken ct) =>
        Json(Describe(await reports.UpdateAsync(Org(ctx), id,
            Spec(await AdminBody.ReadAsync<ReportBody>(ctx.Request, ct)), ct)));

    private static async Task<IResult> Delete(string id, HttpContext ctx, IReports reports, CancellationToken ct) =>
        await reports.DeleteAsync(Org(ctx), id, ct) ? Json(new { deleted = id }) : throw NotFound(id);

    private static async Task<IResult> Runs(string id, HttpContext ctx, IReports reports, int? limit,
        CancellationToken ct)
    {
        _ = await reports.GetAsync(Org(ctx), id, ct) ?? throw NotFound(id);
        return Json(new { runs = (await reports.RunsAsync(Org(ctx), id, limit ?? 100, ct)).Select(Describe) });
    }

    private static async Task<IResult> File(string id, string run, HttpContext ctx, IReports reports, string? format,
        CancellationToken ct)
    {
        if (!ReportNames.TryParse(format ?? "svg", out ReportFormat f))
            throw new AuthException(AuthErrorKind.Invalid, "format: must be svg, png or pdf");
        var bytes = await reports.FileAsync(Org(ctx), id, run, f, ct)
            ?? throw new AuthException(AuthErrorKind.NotFound, $"run '{run}' of report '{id}' has no {format} file");
        return Results.Bytes(bytes, ReportNames.ContentType(f));
    }
}
