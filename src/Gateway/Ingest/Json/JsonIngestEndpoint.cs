using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Ingest.Json;

/// <summary><c>POST /api/v1/ingest/{stream}</c>: JSON object, array or NDJSON into the stream.</summary>
public static class JsonIngestEndpoint
{
    public static IEndpointRouteBuilder MapJsonIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/ingest/{stream}", Ingest).Requires(Permission.Ingest).RateLimited(RouteClass.Ingest);
        return app;
    }

    private static async Task<IResult> Ingest(string stream, HttpRequest request, IngestPipeline pipeline,
        CancellationToken ct)
    {
        if (IngestRequest.Write(request, out var options) is { } badOptions) return badOptions.ToApiError();
        if (IngestRequest.Target(request, stream, out var target) is { } bad) return bad.ToApiError();
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct);
        if (body.Failure is { } failure) return failure.ToApiError();
        var outcome = await pipeline.IngestAsync(target, body.Length, IngestRequest.CreatesOrg(request),
            b => JsonBodyParser.Parse(body.Span, b), options: options, ct: ct);
        return IngestHttp.Result(outcome, request.HttpContext.Response);
    }
}
