namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>
/// Accepted records of one stream, already flattened (keys lowercased, nested keys joined with '_', <c>_timestamp</c>
/// int64 µs), as columns: <see cref="Payload"/>, laid out by <see cref="BatchPayload"/>. This is also the WAL payload.
/// Immutable so Orleans passes it without a deep copy.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class IngestBatch
{
    [Id(0)] public required byte[] Payload { get; init; }
    [Id(1)] public required int Count { get; init; }
    /// <summary>Fields seen in this batch and the widest kind each took.</summary>
    [Id(2)] public required string[] FieldNames { get; init; }
    [Id(3)] public required FieldKind[] FieldKinds { get; init; }
    [Id(4)] public long MinTimestamp { get; init; }
    [Id(5)] public long MaxTimestamp { get; init; }
    /// <summary>Size of the records as the client sent them (before flattening and compression).</summary>
    [Id(6)] public long OriginalBytes { get; init; }
    /// <summary>
    /// A later batch of a request whose first batch was admitted: it is written without the buffer-bound check,
    /// so a request is refused whole or written whole.
    /// </summary>
    [Id(7)] public bool ContinuesRequest { get; init; }
    /// <summary>The request's <c>Idempotency-Key</c>, on each of its batches: the stream answers a key it
    /// acknowledged before with <see cref="AppendStatus.Duplicate"/> and writes nothing.</summary>
    [Id(8)] public string? IdempotencyKey { get; init; }
    /// <summary>
    /// On the request's last batch for this stream: its outcome, opaque to the stream, kept with the WAL entry
    /// (then with the flushed files) and handed back to a retry of the same key.
    /// </summary>
    [Id(9)] public byte[]? Receipt { get; init; }

    /// <summary>This batch with the request's idempotency key (and, on its last batch, its receipt).</summary>
    public IngestBatch WithKey(string key, byte[]? receipt) => new()
    {
        Payload = Payload, Count = Count, FieldNames = FieldNames, FieldKinds = FieldKinds,
        MinTimestamp = MinTimestamp, MaxTimestamp = MaxTimestamp, OriginalBytes = OriginalBytes,
        ContinuesRequest = ContinuesRequest, IdempotencyKey = key, Receipt = receipt,
    };
}

public enum AppendStatus : byte
{
    /// <summary>Durable per the WAL flush strategy.</summary>
    Ok = 0,
    /// <summary>The ingester's buffer is full (or the store is down and the WAL bound reached); retry later.</summary>
    Backpressure = 1,
    /// <summary>The write did not reach the WAL.</summary>
    Failed = 2,
    /// <summary>
    /// Nothing was written: the batch would grow the stream's schema past <c>max_stream_fields</c>. The result
    /// carries the stream's fields, so the request can be built again keeping only records that fit.
    /// </summary>
    SchemaFull = 3,
    /// <summary>
    /// Nothing was written: the batch's <see cref="IngestBatch.IdempotencyKey"/> was acknowledged within the
    /// idempotency window. The result carries that request's <see cref="AppendResult.Receipt"/>.
    /// </summary>
    Duplicate = 4,
}

[GenerateSerializer, Immutable]
public sealed record AppendResult(
    [property: Id(0)] AppendStatus Status,
    [property: Id(1)] int RetryAfterSecs = 0,
    [property: Id(2)] string? Error = null,
    /// <summary>With <see cref="AppendStatus.SchemaFull"/>: the stream's field names and its field cap.</summary>
    [property: Id(3)] string[]? Fields = null,
    [property: Id(4)] int MaxFields = 0,
    /// <summary>With <see cref="AppendStatus.Duplicate"/>: the first request's receipt.</summary>
    [property: Id(5)] byte[]? Receipt = null)
{
    public static readonly AppendResult Ok = new(AppendStatus.Ok);
}
