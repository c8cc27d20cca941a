using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Auth;

/// <summary>
/// <c>/api/v1/tokens</c>: the caller's own API tokens and, for an admin of the X-Org-Id org, its service tokens.
/// A created token's secret is in that one answer only.
/// </summary>
public static class TokenEndpoints
{
    private sealed record CreateBody(string? Name, string? Org, string? Role, long? ExpiresInSecs);

    public static IEndpointRouteBuilder MapTokens(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/tokens", List).RequiresPrincipal();
        app.MapPost("/api/v1/tokens", Create).RequiresPrincipal();
        app.MapDelete("/api/v1/tokens/{id}", Revoke).RequiresPrincipal();
        return app;
    }

    private static async Task<IResult> List(HttpContext ctx, ITokenService tokens, CancellationToken ct)
    {
        var list = await tokens.ListAsync(RequestAuth.Principal(ctx), OrgHeader.Current(ctx.Request), ct);
        return Results.Json(new { tokens = list.Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> Create(HttpContext ctx, ITokenService tokens, CancellationToken ct)
    {
        var body = await AdminBody.ReadAsync<CreateBody>(ctx.Request, ct);
        string? org = null;
        if (body.Org is not null)
            org = Ingest.NameRules.Normalize(body.Org) ?? throw new AuthException(AuthErrorKind.Invalid,
                OrgHeader.InvalidMessage);
        OrgRole? role = body.Role is null ? null : AdminBody.Role(body.Role);
        var created = await tokens.CreateAsync(RequestAuth.Principal(ctx), AdminBody.Required(body.Name, "name"), org,
            role,
            Ttl(body.ExpiresInSecs), RequestAuth.Client(ctx), ct);
        return Results.Json(new { token = created.Token, info = Describe(created.Info) }, GatewayJson.Options,
            statusCode: 201);
    }

    private static async Task<IResult> Revoke(string id, HttpContext ctx, ITokenService tokens, CancellationToken ct)
    {
        await tokens.RevokeAsync(RequestAuth.Principal(ctx), id, RequestAuth.Client(ctx), ct);
        return Results.Json(new { revoked = id }, GatewayJson.Options);
    }

    private static TimeSpan? Ttl(long? secs) => secs switch
    {
        null => null,
        > 0 and <= 10 * 366 * 86_400L => TimeSpan.FromSeconds(secs.Value),
        _ => throw new AuthException(AuthErrorKind.Invalid, "expires_in_secs is between 1 and 10 years"),
    };

    private static object Describe(ApiTokenInfo t) => new
    {
        id = t.Id,
        name = t.Name,
        owner = t.Owner,
        org = t.Org,
        role = t.Role is { } r ? OrgRoles.Name(r) : null,
        created_at = t.CreatedAtMicros,
        expires_at = t.ExpiresAtMicros,
    };
}
