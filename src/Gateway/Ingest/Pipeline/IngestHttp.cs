using System.Text.Json.Serialization;
using MoleSignal.Gateway.Errors;

namespace MoleSignal.Gateway.Ingest;

/// <summary>What the gateway repaired in accepted records.</summary>
public static class IngestWarnings
{
    public static readonly Prometheus.Counter InvalidUtf8 = Prometheus.Metrics.CreateCounter(
        "ingest_invalid_utf8_values_total", "Text values whose invalid UTF-8 was replaced by U+FFFD.");
}

/// <summary>The one map from an <see cref="IngestOutcome"/> to HTTP: its status code, and the answer of our own
/// ingest API (protocols with an answer shape of their own take the status from here).</summary>
public static class IngestHttp
{
    public static int StatusCode(IngestStatus status) => status switch
    {
        IngestStatus.Ok => 200,
        IngestStatus.Unreadable or IngestStatus.AllRejected => 400,
        IngestStatus.QuotaExceeded => 429,
        IngestStatus.Backpressure => 503,
        _ => 500,
    };

    /// <summary>Counts what the accepted records needed repaired; call once per outcome (a replay was counted
    /// when it was written).</summary>
    public static void CountWarnings(IngestOutcome o)
    {
        if (o.InvalidUtf8Values > 0 && !o.Replayed) IngestWarnings.InvalidUtf8.Inc(o.InvalidUtf8Values);
    }

    /// <summary>Answers a retry of an acknowledged Idempotency-Key with this header, as Stripe's API does.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>Sets what the status needs beside the body: Retry-After on backpressure,
    /// <see cref="ReplayedHeader"/> on a replay.</summary>
    public static void SetHeaders(IngestOutcome o, HttpResponse response)
    {
        if (o.Status == IngestStatus.Backpressure) response.Headers.RetryAfter = o.RetryAfterSecs.ToString();
        MarkReplayed(o, response);
    }

    public static void MarkReplayed(IngestOutcome o, HttpResponse response)
    {
        if (o.Replayed) response.Headers[ReplayedHeader] = "true";
    }

    private sealed record Answered(int Accepted, int Rejected, IEnumerable<object> Errors,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Warnings);

    /// <summary>The answer of <c>POST /api/v1/ingest/{stream}</c>.</summary>
    /// <param name="unreadable">The error code of a body the protocol cannot read.</param>
    public static IResult Result(IngestOutcome o, HttpResponse response, string unreadable = "invalid_json")
    {
        SetHeaders(o, response);
        switch (o.Status)
        {
            case IngestStatus.Ok:
                CountWarnings(o);
                var repaired = o.InvalidUtf8Values;
                return Results.Json(new Answered(o.Accepted, o.Rejected,
                    o.Errors.Select(e => (object)new { index = e.Index, error = e.Error }),
                    repaired > 0 ? new { invalid_utf8_values = repaired } : null), GatewayJson.Options);
            case IngestStatus.QuotaExceeded:
                return AuthErrors.QuotaExceeded(o.Quota!);
            default:
                return ApiError.Result(StatusCode(o.Status),
                    o.Status == IngestStatus.Unreadable ? unreadable : Code(o.Status), o.Message ?? "");
        }
    }

    private static string Code(IngestStatus status) => status switch
    {
        IngestStatus.AllRejected => "all_rejected",
        IngestStatus.Backpressure => "backpressure",
        _ => "wal_write_failed",
    };
}
