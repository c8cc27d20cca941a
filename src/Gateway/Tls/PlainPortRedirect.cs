using Microsoft.AspNetCore.Builder;

namespace MoleSignal.Gateway.Tls;

/// <summary>
/// With TLS on, the plain port answers the probes (<c>/healthz</c>, <c>/readyz</c>) and ACME challenges (none in
/// this build: 404), and sends every other request to the same path and query on HTTPS with a 301.
/// </summary>
public static class PlainPortRedirect
{
    public static IApplicationBuilder UsePlainPortRedirect(this IApplicationBuilder app, int plainPort, int httpsPort) =>
        app.Use(async (ctx, next) =>
        {
            var path = ctx.Request.Path;
            if (ctx.Connection.LocalPort != plainPort || path == "/healthz" || path == "/readyz"
                || path.StartsWithSegments("/.well-known/acme-challenge"))
            {
                await next(ctx);
                return;
            }
            ctx.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            ctx.Response.Headers.Location =
                $"https://{ctx.Request.Host.Host}:{httpsPort}{ctx.Request.PathBase}{path}{ctx.Request.QueryString}";
        });
}
