using Microsoft.AspNetCore.Builder;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Auth;

/// <summary>Who may call a route. Every <c>/api</c> route declares one; a route without it is refused.</summary>
/// <param name="Permission">Needed in the request's org; null: any principal, whatever the org.</param>
/// <param name="OrgRouteValue">The route value naming the org (<c>/orgs/{org}/...</c>); null: the X-Org-Id
/// header.</param>
/// <param name="Anonymous">The credential exchange itself (login): no principal needed.</param>
public sealed record RouteAccess(Permission? Permission, string? OrgRouteValue = null, bool Anonymous = false)
{
    /// <summary>How <c>molesignal routes</c> prints it.</summary>
    public override string ToString() => Anonymous ? "anonymous"
        : Permission is { } p ? p.ToString().ToLowerInvariant() + (OrgRouteValue is null ? "" : " (org from path)")
        : "principal";
}

public static class RouteAccessConventions
{
    /// <summary>The principal must hold <paramref name="permission"/> in the request's org.</summary>
    public static TBuilder Requires<TBuilder>(this TBuilder b, Permission permission, string? orgRouteValue = null)
        where TBuilder : IEndpointConventionBuilder => b.WithMetadata(new RouteAccess(permission, orgRouteValue));

    /// <summary>Any principal (its own account, tokens, org list).</summary>
    public static TBuilder RequiresPrincipal<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new RouteAccess(null));

    public static TBuilder AllowsAnonymous<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new RouteAccess(null, Anonymous: true));
}
