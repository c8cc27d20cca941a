using System.IO.Compression;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest;

/// <summary>The ingest limits in force now (they follow config reloads).</summary>
public sealed class IngestLimitsSource(Func<IngestLimits> current)
{
    public IngestLimits Current => current();
}

/// <summary>What the gateway repaired in accepted records.</summary>
public static class IngestWarnings
{
    public static readonly Prometheus.Counter InvalidUtf8 = Prometheus.Metrics.CreateCounter(
        "ingest_invalid_utf8_values_total", "Text values whose invalid UTF-8 was replaced by U+FFFD.");
}

/// <summary><c>POST /api/v1/ingest/{stream}</c>: JSON object, array or NDJSON into the stream's StreamGrain.</summary>
public static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/ingest/{stream}", Ingest).Requires(Permission.Ingest).RateLimited(RouteClass.Ingest);
        return app;
    }

    private static async Task<IResult> Ingest(string stream, HttpRequest request, IGrainFactory grains,
        IngestLimitsSource limitsSource, IQuotaService quotas, IOrgDirectory orgs, CancellationToken ct)
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

        using (body)
        {
            // Root writes into any org: its first write makes the org, as an org made through the API.
            if (RequestAuth.Principal(request.HttpContext).IsRoot) await orgs.EnsureAsync(org, ct);
            if (await quotas.CheckIngestAsync(org, type, name, body.Length, ct) is { } refusal)
                return AuthErrors.QuotaExceeded(refusal);
            var grain = grains.GetGrain<IStreamGrain>(new StreamKey(org, type, name).GrainKey);
            var arrival = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            FieldBudget? budget = null;
            // A stream near max_stream_fields refuses a batch that would pass it, writing nothing; the request is
            // then built again keeping only the records that fit (a few rounds, as concurrent requests add fields).
            for (var round = 0; ; round++)
            {
                List<IngestBatch> batches;
                var builder = new FlatBatchBuilder(limits, arrival, budget);
                // The builder's pooled buffers go back before the appends wait for their WAL syncs.
                using (builder)
                {
                    var notJson = IngestBodyParser.Parse(body.Span, builder);
                    if (notJson is not null) return ApiError.Result(400, "invalid_json", notJson);
                    batches = builder.Build();
                }
                var errors = builder.Errors;
                if (builder.Accepted == 0)
                    return ApiError.Result(400, "all_rejected", errors.Count > 0
                        ? $"all {builder.Rejected} records were rejected; " +
                          $"first: record {errors[0].Index}: {errors[0].Error}"
                        : "the body holds no records");
                var outcome = await AppendAsync(grain, batches, builder.Accepted, request);
                if (outcome.Full is { } full && round < 3)
                {
                    var known = full.Fields!;
                    budget = new FieldBudget(known.ToHashSet(StringComparer.Ordinal),
                        Math.Max(0, full.MaxFields - known.Length), full.MaxFields);
                    continue;
                }
                if (outcome.Accepted > 0) quotas.RecordIngest(org, body.Length);
                if (outcome.Error is not null) return outcome.Error;
                return Answer(outcome.Accepted, builder);
            }
        }
    }

    private readonly record struct Outcome(int Accepted, IResult? Error, AppendResult? Full);

    private static async Task<Outcome> AppendAsync(IStreamGrain grain, List<IngestBatch> batches, int total,
        HttpRequest request)
    {
        var accepted = 0;
        foreach (var batch in batches)
        {
            // Only the first batch can meet backpressure or a full schema: an admitted request is written whole.
            var result = await grain.Append(batch);
            switch (result.Status)
            {
                case AppendStatus.Ok:
                    accepted += batch.Count;
                    continue;
                case AppendStatus.SchemaFull:
                    return new Outcome(0,
                        ApiError.Result(400, "all_rejected", result.Error ?? "the stream has too many fields"), result);
                case AppendStatus.Backpressure:
                    request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, result.RetryAfterSecs).ToString();
                    return new Outcome(0, ApiError.Result(503, "backpressure",
                        result.Error ?? "the ingester buffer is full; retry later"), null);
                default:
                    return new Outcome(accepted, ApiError.Result(500, "wal_write_failed",
                        $"{accepted} of {total} records were written before the WAL failed: {result.Error}"), null);
            }
        }
        return new Outcome(accepted, null, null);
    }

    private sealed record Answered(int Accepted, int Rejected, IEnumerable<object> Errors,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Warnings);

    private static IResult Answer(int accepted, FlatBatchBuilder builder)
    {
        var repaired = builder.InvalidUtf8Values;
        if (repaired > 0) IngestWarnings.InvalidUtf8.Inc(repaired);
        return Results.Json(new Answered(accepted, builder.Rejected,
            builder.Errors.Select(e => (object)new { index = e.Index, error = e.Error }),
            repaired > 0 ? new { invalid_utf8_values = repaired } : null), GatewayJson.Options);
    }
}
