using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Auth;

/// <summary>
/// The one gate of <c>/api</c> and of every route declaring its <see cref="RouteAccess"/>: resolves the principal from the Authorization header, the org from the route or
/// X-Org-Id, and checks the route's <see cref="RouteAccess"/>. No credentials or bad ones: 401 with a Basic
/// challenge; a principal without the permission in that org: 403. A route that declares no access is refused.
/// </summary>
public static class RequestAuth
{
    private const string PrincipalKey = "molesignal.principal";
    public const string Challenge = "Basic realm=\"molesignal\"";

    public static Principal Principal(HttpContext ctx) =>
        ctx.Items[PrincipalKey] as Principal ?? throw new InvalidOperationException("the route passed no auth gate");

    public static string Client(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static IApplicationBuilder UseApiAuth(this IApplicationBuilder app) => app.Use(async (ctx, next) =>
    {
        var endpoint = ctx.GetEndpoint();
        var access = endpoint?.Metadata.GetMetadata<RouteAccess>();
        // Outside /api only the routes that declare access (protocol paths such as Loki's /loki/api/v1/push).
        if (access is null && !ctx.Request.Path.StartsWithSegments("/api"))
        {
            await next(ctx);
            return;
        }
        if (access is { Anonymous: true })
        {
            await next(ctx);
            return;
        }
        var auth = ctx.RequestServices.GetRequiredService<IAuthenticator>();
        var outcome = await auth.AuthenticateAsync(ctx.Request.Headers.Authorization.ToString(), Client(ctx),
            ctx.RequestAborted);
        if (outcome.Principal is not { } principal)
        {
            await Refuse(ctx, outcome);
            return;
        }
        if (endpoint is null)
        {
            await next(ctx); // 404 for a principal only: unknown routes tell nothing to strangers
            return;
        }
        if (access is null)
        {
            ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("MoleSignal.Gateway")
                .LogError("route {Route} declares no access rule; refused", endpoint.DisplayName);
            await ErrorHandling.WriteAsync(ctx, 403, "forbidden", "this route declares no access rule");
            return;
        }
        var org = access.OrgRouteValue is { } name
            ? Ingest.NameRules.Normalize(ctx.Request.RouteValues[name] as string ?? "")
            : OrgHeader.Of(ctx.Request);
        if (org is null)
        {
            await ErrorHandling.WriteAsync(ctx, 400, "invalid_org", OrgHeader.InvalidMessage);
            return;
        }
        if (access.Permission is { } permission && !principal.Allows(org, permission))
        {
            await ErrorHandling.WriteAsync(ctx, 403, "forbidden", Denied(principal, org, access.Permission.Value));
            return;
        }
        ctx.Items[PrincipalKey] = principal;
        OrgHeader.Set(ctx, org);
        await next(ctx);
    });

    private static string Denied(Principal principal, string org,
        Permission permission) => permission == Permission.Root
        ? "only the root user may do this"
        : $"{principal.Actor} has no role in org '{org}' that allows {permission.ToString().ToLowerInvariant()}";

    private static Task Refuse(HttpContext ctx, AuthOutcome outcome)
    {
        if (outcome.Failure == AuthFailure.Throttled)
        {
            ctx.Response.Headers.RetryAfter = outcome.RetryAfterSecs.ToString();
            return ErrorHandling.WriteAsync(ctx, 429, "too_many_failed_logins",
                $"too many failed logins; retry after {outcome.RetryAfterSecs}s");
        }
        ctx.Response.Headers.WWWAuthenticate = Challenge;
        return ErrorHandling.WriteAsync(ctx, 401, "unauthorized", outcome.Failure == AuthFailure.Missing
            ? "credentials required: Authorization Basic (email:password or email:api_token) or Bearer"
            : "the credentials are not valid (wrong password, unknown, expired or revoked token)");
    }
}
