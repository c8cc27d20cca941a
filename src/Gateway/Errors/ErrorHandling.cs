using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MoleSignal.Gateway.Errors;

/// <summary>Unhandled exceptions and bare status codes (404, 405, 413 ...) become JSON error bodies, never stack traces.</summary>
public static class ErrorHandling
{
    public static IApplicationBuilder UseJsonErrors(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(errorApp => errorApp.Run(async ctx =>
        {
            var ex = ctx.Features.Get<IExceptionHandlerFeature>()?.Error;
            var (status, code, message) = ex switch
            {
                BadHttpRequestException b => (b.StatusCode, b.StatusCode == 413 ? "payload_too_large" : "bad_request", b.Message),
                JsonException => (400, "bad_request", "request body is not valid JSON"),
                OperationCanceledException => (499, "cancelled", "the request was cancelled"),
                // A silo the call needed is gone or not answering (an ingester restarting, a failover under way):
                // nothing was acknowledged, and the same request will succeed once membership settles.
                Orleans.Runtime.OrleansMessageRejectionException or TimeoutException =>
                    (503, "cluster_unavailable", "a node this request needs cannot be reached right now; retry shortly"),
                _ => (500, "internal", "internal error; see the server log"),
            };
            if (status == 503) ctx.Response.Headers.RetryAfter = "2";
            if (status == 500 && ctx.RequestServices.GetService(typeof(ILoggerFactory)) is ILoggerFactory lf)
                lf.CreateLogger("MoleSignal.Gateway").LogError(ex, "unhandled error on {Path}", ctx.Request.Path);
            await WriteAsync(ctx, status, code, message);
        }));
        app.UseStatusCodePages(async sc =>
        {
            var ctx = sc.HttpContext;
            var status = ctx.Response.StatusCode;
            var code = status switch
            {
                404 => "not_found",
                405 => "method_not_allowed",
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                _ => "http_" + status,
            };
            await WriteAsync(ctx, status, code, $"{ctx.Request.Method} {ctx.Request.Path}: {code.Replace('_', ' ')}");
        });
        return app;
    }

    /// <summary>Writes the JSON error body, unless the response has started.</summary>
    public static Task WriteAsync(HttpContext ctx, int status, string code, string message)
    {
        if (ctx.Response.HasStarted) return Task.CompletedTask;
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new ApiError(code, message), GatewayJson.Options);
    }
}
