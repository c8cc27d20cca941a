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
/// Protobuf or OTLP/JSON bodies (gzip or zstd allowed); the stream is <c>?stream=</c> / <c>MS-Stream</c>, else the
/// <c>stream-name</c> header, else <c>default</c>. Success answers the export response (a partial success names
/// the rejected records); a failure answers a <c>google.rpc.Status</c> with the status code of
/// <see cref="IngestHttp"/>; both in the request's encoding.
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
        var json = type == Json;
        if (type != Protobuf && !json) return Failure(false, 415, $"Content-Type must be {Protobuf} or {Json}");
        if (IngestRequest.Options(request, out var asked, out var options) is { } bad)
            return Failure(json, bad.Status, bad.Message);
        var stream = asked ?? NameRules.Normalize(request.Headers["stream-name"].FirstOrDefault()
            ?? OtlpExport.DefaultStream);
        if (stream is null) return Failure(json, 400, IngestRequest.StreamRule);
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct);
        if (body.Failure is { } failure) return Failure(json, failure.Status, failure.Message);
        var org = OrgHeader.Current(request);
        var createsOrg = IngestRequest.CreatesOrg(request);
        (IngestOutcome? Outcome, IMessage? Answer) run;
        if (signal == OtlpSignal.Logs)
        {
            // Logs, the bulk of OTLP/HTTP, are read from the body's bytes: no object or UTF-16 string per field.
            var malformed = json
                ? OtlpLogsJson.Check(body.Span, out var any)
                : OtlpLogsWire.Check(body.Span, out any);
            if (malformed is not null)
                return Failure(json, 400, $"the body is not an OTLP logs export request: {malformed}");
            IngestPipeline.Fill fill = json
                ? b => OtlpLogsJson.Fill(b, body.Span)
                : b => OtlpLogsWire.Fill(b, body.Span);
            run = await OtlpExport.RunAsync(signal, any, fill, org, stream, createsOrg, body.Length, pipeline,
                options, ct);
        }
        else
        {
            IMessage message;
            try
            {
                message = json ? OtlpJson.Parse(body.Span, signal.Descriptor) : signal.Parse(body.Span);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
            {
                return Failure(json, 400, $"the body is not an OTLP {signal.Name} export request: {e.Message}");
            }
            run = await OtlpExport.RunAsync(signal, message, org, stream, createsOrg, body.Length, pipeline,
                options, ct);
        }
        var (outcome, answer) = run;
        if (answer is not null)
        {
            if (outcome is not null) IngestHttp.MarkReplayed(outcome, request.HttpContext.Response);
            return new OtlpResult(json, answer, 200);
        }
        IngestHttp.SetHeaders(outcome!, request.HttpContext.Response);
        return Failure(json, IngestHttp.StatusCode(outcome!.Status), outcome.Message ?? "quota exceeded");
    }

    public const string Json = "application/json";

    private static IResult Failure(bool json, int status, string message) =>
        new OtlpResult(json, new RpcStatus { Code = GrpcCode(status), Message = message }, status);

    // An answer in the request's encoding.
    private sealed class OtlpResult(bool json, IMessage body, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = json ? Json : Protobuf;
            return json
                ? http.Response.WriteAsync(OtlpJson.Format(body))
                : http.Response.Body.WriteAsync(body.ToByteArray()).AsTask();
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
