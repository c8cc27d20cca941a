using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Audit;

/// <summary><c>GET /api/v1/audit?from=&amp;to=&amp;actor=&amp;action=&amp;limit=</c>: an admin sees the X-Org-Id org's
/// rows, root every row.</summary>
public static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/audit", Query).Requires(Permission.Admin);
        return app;
    }

    private static async Task<IResult> Query(HttpContext ctx, IAuditLog audit, long? from, long? to, string? actor,
        string? action, int? limit, CancellationToken ct)
    {
        var principal = RequestAuth.Principal(ctx);
        // Root reads every org's rows (and those of no org: failed logins); an admin only the org's.
        var org = principal.IsRoot
            && !ctx.Request.Headers.ContainsKey("X-Org-Id") ? null : OrgHeader.Current(ctx.Request);
        var rows = await audit.QueryAsync(new AuditFilter(from, to, actor, action, org, limit ?? 100), ct);
        return Results.Json(new
        {
            entries = rows.Select(r => new
            {
                at = r.AtMicros, actor = r.Actor, org = r.Org, action = r.Action, target = r.Target, client = r.Client,
                result = r.Result,
            }),
        }, GatewayJson.Options);
    }
}
