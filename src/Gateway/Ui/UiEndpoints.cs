using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace MoleSignal.Gateway.Ui;

/// <summary>
/// The web UI at <c>/ui/</c>: its static files, open like the probes (they hold no data; every call the pages
/// make goes to /api with the signed-in user's token). Any other path under /ui/ is the app's page (index.html),
/// which routes by the URL's hash.
/// </summary>
public static class UiEndpoints
{
    public static void MapUi(this IEndpointRouteBuilder http)
    {
        http.MapGet("/", () => Results.Redirect("/ui/"));
        http.MapGet("/ui/{**path}", (string? path, HttpContext ctx) =>
        {
            var assets = UiAssets.Embedded;
            var asset = assets.Find(path ?? "") ?? (path?.StartsWith("assets/", StringComparison.Ordinal) == true
                ? null : assets.Index);
            return asset is null ? Results.NotFound() : Serve(ctx, asset);
        });
    }

    private static IResult Serve(HttpContext ctx, UiAssets.Asset asset)
    {
        var headers = ctx.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = asset.Immutable ? "public, max-age=31536000, immutable" : "no-cache";
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.XContentTypeOptions = "nosniff";
        if (ctx.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        var gzip = ctx.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.Ordinal);
        if (gzip) headers.ContentEncoding = "gzip";
        return Results.Bytes(gzip ? asset.Gzip : asset.Body, asset.ContentType);
    }
}
