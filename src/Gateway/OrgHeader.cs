using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.Ingest;

namespace MoleSignal.Gateway;

/// <summary>
/// The caller's org: <c>X-Org-Id</c>, default <c>default</c>, validated like stream names. Org-scoped endpoints
/// sit in a group whose filter refuses an invalid header once (400 <c>invalid_org</c>) and leaves the org for
/// the handler in <see cref="Current"/>.
/// </summary>
public static class OrgHeader
{
    private const string ItemKey = "molesignal.org";

    public static readonly IResult Invalid = ApiError.Result(400, "invalid_org", "X-Org-Id must match ^[a-z0-9][a-z0-9_-]{0,127}$");

    /// <summary>The lowercased org, or null when the header is not a valid org name.</summary>
    public static string? Of(HttpRequest request) =>
        NameRules.Normalize(request.Headers.TryGetValue("X-Org-Id", out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : "default");

    /// <summary>The org the group's filter validated for this request.</summary>
    public static string Current(HttpRequest request) =>
        request.HttpContext.Items[ItemKey] as string ?? throw new InvalidOperationException("endpoint is not in the org-scoped group");

    /// <summary>A route group whose endpoints all run for a valid org.</summary>
    public static RouteGroupBuilder MapOrgScoped(this IEndpointRouteBuilder app) =>
        app.MapGroup("").AddEndpointFilter(async (ctx, next) =>
        {
            var org = Of(ctx.HttpContext.Request);
            if (org is null) return Invalid;
            ctx.HttpContext.Items[ItemKey] = org;
            return await next(ctx);
        });
}
