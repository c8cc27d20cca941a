using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Federation;

/// <summary><c>GET /api/v1/license</c> (any principal): whom the license names, what it grants, until when, and
/// whether it holds (with the reason when not).</summary>
public static class LicenseEndpoints
{
    public static IEndpointRouteBuilder MapLicense(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/license", (ILicense license) =>
        {
            var s = license.Current;
            return Results.Json(new
            {
                licensee = s.Licensee, features = s.Features, not_before = s.NotBefore, expires = s.Expires,
                valid = s.Valid, reason = s.Reason,
            }, GatewayJson.Options);
        }).RequiresPrincipal();
        return app;
    }
}
