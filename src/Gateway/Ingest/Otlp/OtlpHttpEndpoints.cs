using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Otlp;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP/HTTP: <c>/api/v1/otlp/v1/{logs,traces,metrics}</c> and, as OpenObserve serves it, <c>/api/{org}/v1/…</c>.
/// Protobuf bodies (gzip or zstd allowed); the stream is the <c>stream-name</c> header or <c>?stream=</c>, else
/// <c>default</c>. Success answers the export response (a partial success names the rejected records); a failure
/// answers a <c>google.rpc.Status</c> with the status code of <see cref="IngestHttp"/>.
/// </summary>
public static class OtlpHttpEndpoints
{
    public const string Protobuf = "application/x-protobuf";

    public static IEndpointRouteBuilder MapOtlpHttp(this IEndpointRouteBuilder app)
    {
        foreach (var signal in new[] { OtlpSignal.Logs, OtlpSignal.Traces, OtlpSignal.Metrics })
        {
            app.MapPost($"/api/v1/otlp/v1/{signal.Name}", (HttpRequest r, IngestPipeline p, CancellationToken ct) =>
                    ExportAsync(signal, r, p, ct))
                .Requires(Permission.Ingest).RateLimited(RouteClass.Ingest);
            app.MapPost($"/api/{{org}}/v1/{signal.Name}", (HttpRequest r, IngestPipeline p, CancellationToken ct) =>
                    ExportAsync(signal, r, p, ct))
                .Requires(Permission.Ingest, "org").RateLimited(RouteClass.Ingest);
        }
        return app;
    }

    private static async Task<IResult> ExportAsync(OtlpSignal signal, HttpRequest request, IngestPipeline pipeline,
        CancellationToken ct)
    {
        var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type != Protobuf)
            return Failure(415, $"Content-Type must be {Protobuf} (OTLP/JSON is not served yet)");
        var name = request.Headers["stream-name"].FirstOrDefault() ?? request.Query["stream"].FirstOrDefault()
            ?? OtlpExport.DefaultStream;
        var stream = NameRules.Normalize(name);
        if (stream is null) return Failure(400, IngestRequest.StreamRule);
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct);
        if (body.Failure is { } failure) return Failure(failure.Status, failure.Message);
        IMessage message;
        try
        {
            message = signal.Parse(body.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            return Failure(400, $"the body is not an OTLP {signal.Name} export request: {e.Message}");
        }
        var (outcome, answer) = await OtlpExport.RunAsync(signal, message, OrgHeader.Current(request), stream,
            IngestRequest.CreatesOrg(request), body.Length, pipeline, ct);
        if (answer is not null) return Results.Bytes(answer.ToByteArray(), Protobuf);
        IngestHttp.SetHeaders(outcome!, request.HttpContext.Response);
        return Failure(IngestHttp.StatusCode(outcome!.Status), outcome.Message ?? "quota exceeded");
    }

    private static IResult Failure(int status, string message) => new ProtobufResult(
        new RpcStatus { Code = GrpcCode(status), Message = message }.ToByteArray(), status);

    private sealed class ProtobufResult(byte[] body, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = Protobuf;
            return http.Response.Body.WriteAsync(body).AsTask();
        }
    }

    // The google.rpc.Code an HTTP status stands for.
    private static int GrpcCode(int status) => status switch
    {
        400 or 413 or 415 => 3, // INVALID_ARGUMENT
        401 => 16,
        403 => 7,
        429 => 8, // RESOURCE_EXHAUSTED
        503 => 14, // UNAVAILABLE
        _ => 13, // INTERNAL
    };
}
