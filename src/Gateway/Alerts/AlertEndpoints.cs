using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using static MoleSignal.Gateway.Alerts.AlertBodies;

namespace MoleSignal.Gateway.Alerts;

/// <summary>
/// <c>/api/v1/alerts</c> (rules: read to see, write to change, history and backtest), <c>/api/v1/destinations</c>
/// (admins: they hold URLs and secret references) and <c>/api/v1/incidents</c> (read to see, write to acknowledge
/// or resolve). Everything is the org's own: another org's ids are not found.
/// </summary>
public static class AlertEndpoints
{
    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/alerts", ListRules).Requires(Permission.Read);
        app.MapPost("/api/v1/alerts", CreateRule).Requires(Permission.Write);
        app.MapGet("/api/v1/alerts/{id}", GetRule).Requires(Permission.Read);
        app.MapPut("/api/v1/alerts/{id}", UpdateRule).Requires(Permission.Write);
        app.MapDelete("/api/v1/alerts/{id}", DeleteRule).Requires(Permission.Write);
        app.MapGet("/api/v1/alerts/{id}/history", History).Requires(Permission.Read);
        app.MapPost("/api/v1/alerts/{id}/test", Backtest).Requires(Permission.Read);
        app.MapGet("/api/v1/destinations", ListDestinations).Requires(Permission.Admin);
        app.MapPost("/api/v1/destinations", CreateDestination).Requires(Permission.Admin);
        app.MapGet("/api/v1/destinations/{id}", GetDestination).Requires(Permission.Admin);
        app.MapPut("/api/v1/destinations/{id}", UpdateDestination).Requires(Permission.Admin);
        app.MapDelete("/api/v1/destinations/{id}", DeleteDestination).Requires(Permission.Admin);
        app.MapPost("/api/v1/destinations/{id}/test", TestDestination).Requires(Permission.Admin);
        app.MapGet("/api/v1/incidents", ListIncidents).Requires(Permission.Read);
        app.MapGet("/api/v1/incidents/{id}", GetIncident).Requires(Permission.Read);
        app.MapPost("/api/v1/incidents/{id}/ack", Acknowledge).Requires(Permission.Write);
        app.MapPost("/api/v1/incidents/{id}/resolve", Resolve).Requires(Permission.Write);
        return app;
    }

    private sealed record BacktestBody(long? Start, long? End);

    private static string Org(HttpContext ctx) => OrgHeader.Current(ctx.Request);

    private static IResult Json(object value, int status = 200) =>
        Results.Json(value, GatewayJson.Options, statusCode: status);

    private static AuthException NotFound(string what, string id) =>
        new(AuthErrorKind.NotFound, $"no {what} '{id}' in this org");

    private static async Task<IResult> ListRules(HttpContext ctx, IAlertRules rules, CancellationToken ct) =>
        Json(new { alerts = (await rules.ListAsync(Org(ctx), ct)).Select(Describe) });

    private static async Task<IResult> CreateRule(HttpContext ctx, IAlertRules rules, CancellationToken ct) =>
        Json(Describe(await rules.CreateAsync(Org(ctx), Spec(await AdminBody.ReadAsync<RuleBody>(ctx.Request, ct)),
            ct)), 201);

    private static async Task<IResult> GetRule(string id, HttpContext ctx, IAlertRules rules, CancellationToken ct) =>
        Json(Describe(await rules.GetAsync(Org(ctx), id, ct) ?? throw NotFound("alert rule", id)));

    private static async Task<IResult> UpdateRule(string id, HttpContext ctx, IAlertRules rules,
        CancellationToken ct) =>
        Json(Describe(await rules.UpdateAsync(Org(ctx), id,
            Spec(await AdminBody.ReadAsync<RuleBody>(ctx.Request, ct)), ct)));

    private static async Task<IResult> DeleteRule(string id, HttpContext ctx, IAlertRules rules,
        CancellationToken ct) =>
        await rules.DeleteAsync(Org(ctx), id, ct) ? Json(new { deleted = id }) : throw NotFound("alert rule", id);

    private static async Task<IResult> History(string id, HttpContext ctx, IAlertRules rules, int? limit,
        CancellationToken ct)
    {
        _ = await rules.GetAsync(Org(ctx), id, ct) ?? throw NotFound("alert rule", id);
        return Json(new { evaluations = (await rules.HistoryAsync(Org(ctx), id, limit ?? 100, ct)).Select(Describe) });
    }

    private static async Task<IResult> Backtest(string id, HttpContext ctx, IAlertRules rules, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<BacktestBody>(ctx.Request, ct);
        if (body.Start is not { } start || body.End is not { } end || end <= start)
            throw new AuthException(AuthErrorKind.Invalid, "start and end (µs, start < end) are required");
        return Json(new { windows = (await rules.BacktestAsync(Org(ctx), id, start, end, ct)).Select(Describe) });
    }

    private static async Task<IResult> ListDestinations(HttpContext ctx, IAlertDestinations d, CancellationToken ct) =>
        Json(new { destinations = (await d.ListAsync(Org(ctx), ct)).Select(Describe) });

    private static async Task<IResult> CreateDestination(HttpContext ctx, IAlertDestinations d,
        CancellationToken ct) =>
        Json(Describe(await d.CreateAsync(Org(ctx), Spec(await AdminBody.ReadAsync<DestinationBody>(ctx.Request,
            ct)), ct)), 201);

    private static async Task<IResult> GetDestination(string id, HttpContext ctx, IAlertDestinations d,
        CancellationToken ct) =>
        Json(Describe(await d.GetAsync(Org(ctx), id, ct) ?? throw NotFound("alert destination", id)));

    private static async Task<IResult> UpdateDestination(string id, HttpContext ctx, IAlertDestinations d,
        CancellationToken ct) =>
        Json(Describe(await d.UpdateAsync(Org(ctx), id,
            Spec(await AdminBody.ReadAsync<DestinationBody>(ctx.Request, ct)), ct)));

    private static async Task<IResult> DeleteDestination(string id, HttpContext ctx, IAlertDestinations d,
        CancellationToken ct) =>
        await d.DeleteAsync(Org(ctx), id, ct) ? Json(new { deleted = id }) : throw NotFound("alert destination", id);

    private static async Task<IResult> TestDestination(string id, HttpContext ctx, IAlertDestinations d,
        CancellationToken ct) =>
        await d.TestAsync(Org(ctx), id, ct) is { } error
            ? Errors.ApiError.Result(502, "delivery_failed", error)
            : Json(new { delivered = true });

    private static async Task<IResult> ListIncidents(HttpContext ctx, IIncidents incidents, string? state,
        int? limit, CancellationToken ct)
    {
        IncidentState? filter = state switch
        {
            null => null,
            "open" or "acknowledged" or "resolved" => AlertNames.State(state),
            _ => throw new AuthException(AuthErrorKind.Invalid, "state: must be open, acknowledged or resolved"),
        };
        return Json(new { incidents = (await incidents.ListAsync(Org(ctx), filter, limit ?? 100, ct))
            .Select(Describe) });
    }

    private static async Task<IResult> GetIncident(string id, HttpContext ctx, IIncidents incidents,
        CancellationToken ct)
    {
        var incident = await incidents.GetAsync(Org(ctx), id, ct) ?? throw NotFound("incident", id);
        var notifications = await incidents.NotificationsAsync(Org(ctx), id, ct);
        return Json(new { incident = Describe(incident), notifications = notifications.Select(Describe) });
    }

    private static async Task<IResult> Acknowledge(string id, HttpContext ctx, IIncidents incidents,
        CancellationToken ct) =>
        Json(Describe(await incidents.AcknowledgeAsync(Org(ctx), id, RequestAuth.Principal(ctx).Actor, ct)
            ?? throw NotFound("incident", id)));

    private static async Task<IResult> Resolve(string id, HttpContext ctx, IIncidents incidents,
        CancellationToken ct) =>
        Json(Describe(await incidents.ResolveAsync(Org(ctx), id, RequestAuth.Principal(ctx).Actor, ct)
            ?? throw NotFound("incident", id)));
}
