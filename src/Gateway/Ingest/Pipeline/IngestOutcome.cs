using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Gateway.Ingest;

/// <summary>How one stream's part of a request ended. Each transport maps it to its status in one place
/// (<see cref="IngestHttp"/> for HTTP).</summary>
public enum IngestStatus
{
    /// <summary>The accepted records are durable; the rejected ones are listed.</summary>
    Ok,

    /// <summary>The body as a whole could not be read (not JSON, bad protobuf): nothing was written.</summary>
    Unreadable,

    /// <summary>Every record was rejected, or the body held none: nothing was written.</summary>
    AllRejected,

    /// <summary>An org quota refuses the request: nothing was written.</summary>
    QuotaExceeded,

    /// <summary>The ingester's buffer is full: nothing was written; retry after <see cref="IngestOutcome.RetryAfterSecs"/>.</summary>
    Backpressure,

    /// <summary>The WAL failed: <see cref="IngestOutcome.Accepted"/> records were written before it did.</summary>
    WalFailed,
}

/// <param name="Errors">The first rejected records with their reasons (a bounded list).</param>
/// <param name="RejectedReasons">Every rejected record's index and reason, when the driver asked for them.</param>
public sealed record IngestOutcome(
    IngestStatus Status,
    int Accepted,
    int Rejected,
    IReadOnlyList<RecordError> Errors,
    int InvalidUtf8Values,
    string? Message = null,
    int RetryAfterSecs = 0,
    QuotaRefusal? Quota = null,
    IReadOnlyDictionary<int, string>? RejectedReasons = null)
{
    /// <summary>The answer of an earlier request with the same Idempotency-Key: nothing was written now.</summary>
    public bool Replayed { get; init; }

    public static IngestOutcome Failed(IngestStatus status, string message, int accepted = 0) =>
        new(status, accepted, 0, [], 0, message);
}
