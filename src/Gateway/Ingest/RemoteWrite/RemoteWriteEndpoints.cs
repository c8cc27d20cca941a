using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest.RemoteWrite;

/// <summary>
/// Prometheus remote write 1.0: <c>/api/v1/prometheus/write</c> and, as OpenObserve serves it,
/// <c>/api/{org}/prometheus/api/v1/write</c>; a snappy-compressed <c>WriteRequest</c>. Each sample is a row of the
/// metrics stream named after its metric (<see cref="NameRules.FromMetricName"/>), or of <c>?stream=</c> for all:
/// its labels as fields (<c>__name__</c> included), <c>value</c>, <c>_timestamp</c> from the sample's
/// milliseconds. Staleness markers are not samples and are skipped. 204 when every sample is written.
/// </summary>
public static class RemoteWriteEndpoints
{
    public static IEndpointRouteBuilder MapPrometheusRemoteWrite(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/prometheus/write", WriteAsync)
            .Requires(Permission.Ingest).RateLimited(RouteClass.Ingest);
        app.MapPost("/api/{org}/prometheus/api/v1/write", WriteAsync)
            .Requires(Permission.Ingest, "org").RateLimited(RouteClass.Ingest);
        return app;
    }

    // The NaN Prometheus writes when a series goes stale.
    private const ulong StaleNaN = 0x7ff0000000000002;

    private const string MetricNameLabel = RemoteWriteWire.MetricNameLabel;

    private static async Task<IResult> WriteAsync(HttpRequest request, IngestPipeline pipeline,
        CancellationToken ct)
    {
        var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type != "application/x-protobuf")
            return ApiError.Result(415, "unsupported_media_type",
                "Content-Type must be application/x-protobuf (a snappy-compressed WriteRequest)");
        if (IngestRequest.AskedStream(request, out var fixedStream) is { } badStream) return badStream.ToApiError();
        if (IngestRequest.IdempotencyKey(request, out var key) is { } bad) return bad.ToApiError();
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct, snappy: true);
        if (body.Failure is { } failure) return failure.ToApiError();
        var series = new List<WireSeries>();
        if (RemoteWriteWire.Read(body.Span, series) is { } unreadable)
            return ApiError.Result(400, "invalid_protobuf", unreadable);

        var byStream = new Dictionary<string, List<WireSeries>>(StringComparer.Ordinal);
        var unnamed = 0;
        foreach (var one in series)
        {
            if (one.Samples == 0) continue;
            var stream = fixedStream ?? NameRules.FromMetricName(one.MetricName);
            if (stream is null)
            {
                unnamed += one.Samples;
                continue;
            }
            if (!byStream.TryGetValue(stream, out var list)) byStream[stream] = list = [];
            list.Add(one);
        }
        var parts = byStream.Select(p => new StreamPart(p.Key, p.Value.Sum(s => (long)s.Length),
            b =>
            {
                RemoteWriteWire.Fill(b, body.Span, p.Value, StaleNaN);
                return null;
            })).ToList();
        var outcomes = await pipeline.IngestAllAsync(OrgHeader.Current(request), StreamKey.Metrics,
            IngestRequest.CreatesOrg(request), parts, new WriteOptions(IdempotencyKey: key), ct);
        if (unnamed > 0)
            outcomes = [..outcomes, new IngestOutcome(IngestStatus.AllRejected, 0, unnamed,
                [new RecordError(0, $"a series' {MetricNameLabel} is missing or names no valid stream")], 0)];
        return StreamParts.NoContentAnswer(outcomes, request.HttpContext.Response, "invalid_protobuf");
    }
}
