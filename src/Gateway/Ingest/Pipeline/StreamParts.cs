using MoleSignal.Gateway.Errors;

namespace MoleSignal.Gateway.Ingest;

/// <summary>The part of a request bound for one stream, for protocols whose requests name several (Loki streams,
/// Prometheus metric names).</summary>
public readonly record struct StreamPart(string Stream, long Bytes, IngestPipeline.Fill Fill);

/// <summary>A request of several parts through the pipeline, and its one answer for protocols that answer
/// 204 No Content (Loki push, Prometheus remote write).</summary>
public static class StreamParts
{
    /// <summary>Every part at once (streams are independent grains).</summary>
    public static Task<IngestOutcome[]> IngestAllAsync(this IngestPipeline pipeline, string org, string type,
        bool createsOrg, IReadOnlyList<StreamPart> parts, WriteOptions options, CancellationToken ct) =>
        Task.WhenAll(parts.Select(p => pipeline.IngestAsync(new IngestTarget(org, type, p.Stream), p.Bytes,
            createsOrg, p.Fill, options: options, ct: ct)));

    // A failure that a sender should retry or see first, worst first: the parts that were written stay written.
    private static readonly IngestStatus[] Precedence =
        [IngestStatus.WalFailed, IngestStatus.Backpressure, IngestStatus.QuotaExceeded, IngestStatus.Unreadable];

    /// <summary>204 when every record was written; the failure of a part that failed (5xx and 429 are retried by
    /// these senders); 400 <c>rejected</c> naming the first reason when some records were refused and the rest
    /// written (a 4xx is not retried, so the refused records are not sent again).</summary>
    public static IResult NoContentAnswer(IReadOnlyList<IngestOutcome> outcomes, HttpResponse response,
        string unreadable)
    {
        foreach (var o in outcomes) IngestHttp.CountWarnings(o);
        foreach (var status in Precedence)
            foreach (var o in outcomes)
                if (o.Status == status)
                    return IngestHttp.Result(o, response, unreadable);
        long rejected = 0, accepted = 0;
        RecordError? first = null;
        foreach (var o in outcomes)
        {
            rejected += o.Rejected;
            accepted += o.Accepted;
            if (first is null && o.Errors.Count > 0) first = o.Errors[0];
        }
        foreach (var o in outcomes) IngestHttp.MarkReplayed(o, response);
        if (rejected == 0) return Results.NoContent();
        return ApiError.Result(400, "rejected", $"{rejected} of {rejected + accepted} records were rejected " +
            $"and the others written{(first is { } e ? $"; first: {e.Error}" : "")}");
    }
}
