using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Orgs;

/// <summary><c>/api/v1/orgs/{org}/quotas</c>: limits and usage (the org's admins read), overrides (root
/// sets).</summary>
public static class QuotaEndpoints
{
    public static IEndpointRouteBuilder MapQuotas(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/orgs/{org}/quotas", Get).Requires(Permission.Admin, "org");
        app.MapPut("/api/v1/orgs/{org}/quotas", Set).Requires(Permission.Root, "org");
        return app;
    }

    private static async Task<IResult> Get(HttpContext ctx, IQuotaService quotas, CancellationToken ct)
    {
        var org = OrgHeader.Current(ctx.Request);
        var states = await quotas.GetAsync(org, ct);
        return Results.Json(new
        {
            org,
            quotas = states.ToDictionary(s => Quotas.Name(s.Quota),
                s => new { limit = s.Limit, usage = s.Usage, source = s.Overridden ? "org" : "default" }),
        }, GatewayJson.Options);
    }

    /// <summary>Body: <c>{"max_streams": 10, "stored_bytes": null}</c>: a number overrides, null returns to the
    /// default.</summary>
    private static async Task<IResult> Set(HttpContext ctx, IQuotaService quotas, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<Dictionary<string, JsonElement>>(ctx.Request, ct);
        var values = new Dictionary<Quota, long?>();
        foreach (var (name, value) in body)
        {
            if (!Quotas.TryParse(name, out var q))
                throw new AuthException(AuthErrorKind.Invalid,
                    $"unknown quota '{name}'; quotas are {string.Join(", ", Quotas.All.Select(Quotas.Name))}");
            values[q] = value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.Number when value.TryGetInt64(out var n) && n >= 0 => n,
                _ => throw new AuthException(AuthErrorKind.Invalid,
                    $"{name} is a whole number ≥ 0 (0 = unlimited) or null"),
            };
        }
        var org = OrgHeader.Current(ctx.Request);
        await quotas.SetAsync(RequestAuth.Principal(ctx), org, values, RequestAuth.Client(ctx), ct);
        return await Get(ctx, quotas, ct);
    }
}
