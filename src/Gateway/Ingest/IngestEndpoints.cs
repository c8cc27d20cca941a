using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest;

/// <summary>The ingest limits in force now (they follow config reloads).</summary>
public sealed class IngestLimitsSource(Func<IngestLimits> current)
{
    public IngestLimits Current => current();
}

/// <summary><c>POST /api/v1/ingest/{stream}</c>: JSON object, array or NDJSON into the stream's StreamGrain.</summary>
public static class IngestEndpoints
{
    private const int MaxReportedErrors = 100;

    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/ingest/{stream}", Ingest).RateLimited(RouteClass.Ingest);
        return app;
    }

    private static async Task<IResult> Ingest(string stream, HttpRequest request, IGrainFactory grains, IngestLimitsSource limitsSource, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        var name = NameRules.Normalize(stream);
        if (name is null)
            return ApiError.Result(400, "invalid_stream", "stream name must match ^[a-z0-9][a-z0-9_-]{0,127}$ (after lowercasing)");
        var type = request.Query.TryGetValue("type", out var t) && t.Count > 0 ? t[0]!.ToLowerInvariant() : "logs";
        if (!StreamKey.Types.Contains(type))
            return ApiError.Result(400, "invalid_type", "type must be logs, metrics or traces");

        var limits = limitsSource.Current;
        BodyReader body;
        try
        {
            body = await BodyReader.ReadAsync(request, limits.MaxBodyBytes, ct);
        }
        catch (BodyReader.TooLargeException e)
        {
            return ApiError.Result(413, "payload_too_large", e.Message);
        }
        catch (BodyReader.UnsupportedEncodingException e)
        {
            return ApiError.Result(415, "unsupported_encoding", e.Message);
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException)
        {
            return ApiError.Result(400, "bad_encoding", $"request body could not be decompressed: {e.Message}");
        }

        List<IngestBatch> batches;
        FlatBatchBuilder builder;
        using (body)
        {
            builder = new FlatBatchBuilder(limits, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
            var notJson = IngestBodyParser.Parse(body.Span, builder);
            if (notJson is not null)
            {
                builder.Dispose();
                return ApiError.Result(400, "invalid_json", notJson);
            }
            batches = builder.Build();
            builder.Dispose();
        }
        var errors = builder.Errors;
        if (builder.Accepted == 0)
            return ApiError.Result(400, "all_rejected", errors.Count > 0
                ? $"all {errors.Count} records were rejected; first: record {errors[0].Index}: {errors[0].Error}"
                : "the body holds no records");

        var grain = grains.GetGrain<IStreamGrain>(new StreamKey(org, type, name).GrainKey);
        var accepted = 0;
        foreach (var batch in batches)
        {
            // Only the first batch can meet backpressure: an admitted request is written whole.
            var result = await grain.Append(batch);
            if (result.Status == AppendStatus.Ok)
            {
                accepted += batch.Count;
                continue;
            }
            if (result.Status == AppendStatus.Backpressure)
            {
                request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, result.RetryAfterSecs).ToString();
                return ApiError.Result(503, "backpressure", result.Error ?? "the ingester buffer is full; retry later");
            }
            return ApiError.Result(500, "wal_write_failed",
                $"{accepted} of {builder.Accepted} records were written before the WAL failed: {result.Error}");
        }
        return Results.Json(new
        {
            accepted,
            rejected = errors.Count,
            errors = errors.Take(MaxReportedErrors).Select(e => new { index = e.Index, error = e.Error }),
        }, GatewayJson.Options);
    }
}
