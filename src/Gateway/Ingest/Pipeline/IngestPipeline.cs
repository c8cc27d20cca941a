using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest;

/// <summary>The stream one part of a request writes to.</summary>
public readonly record struct IngestTarget(string Org, string Type, string Stream);

/// <summary>
/// The path every protocol's records take into a stream: quota check, build (a driver fills a
/// <see cref="RecordBuilder"/>), append to the stream's StreamGrain batch by batch, one
/// <see cref="IngestOutcome"/>. A stream near <c>max_stream_fields</c> refuses a batch that would pass it, writing
/// nothing; the records are then built again keeping only those that fit (a few rounds, as concurrent requests add
/// fields), which is why a driver hands over a fill function rather than a finished builder.
/// </summary>
public sealed class IngestPipeline(IGrainFactory grains, IngestLimitsSource limits, IQuotaService quotas,
    IOrgDirectory orgs)
{
    /// <summary>Reads the request's records for the target into the builder.</summary>
    /// <returns>Null, or why the body as a whole cannot be read (then nothing of it is written).</returns>
    public delegate string? Fill(RecordBuilder builder);

    public IngestLimits Limits => limits.Current;

    /// <param name="bytes">The request's bytes for this target (quotas count them).</param>
    /// <param name="createsOrg">The principal may write into an org that does not exist yet (root): the first
    /// write makes it, as an org made through the API.</param>
    /// <param name="trackRejected">Keep every rejected record's index, for answers per record.</param>
    /// <param name="options">The request's message and time fields (<c>_msg_field</c>, <c>_time_field</c>) and
    /// its idempotency key: a key the stream acknowledged within the window answers that request's outcome
    /// (<see cref="IngestOutcome.Replayed"/>) and writes nothing.</param>
    public async Task<IngestOutcome> IngestAsync(IngestTarget target, long bytes, bool createsOrg, Fill fill,
        bool trackRejected = false, WriteOptions? options = null, CancellationToken ct = default)
    {
        options ??= WriteOptions.None;
        if (createsOrg) await orgs.EnsureAsync(target.Org, ct);
        if (await quotas.CheckIngestAsync(target.Org, target.Type, target.Stream, bytes, ct) is { } refusal)
            return IngestOutcome.Failed(IngestStatus.QuotaExceeded, "", 0) with { Quota = refusal };
        var grain = grains.GetGrain<IStreamGrain>(new StreamKey(target.Org, target.Type, target.Stream).GrainKey);
        var current = limits.Current;
        var arrival = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        FieldBudget? budget = null;
        for (var round = 0; ; round++)
        {
            List<IngestBatch> batches;
            var builder = new RecordBuilder(current, arrival, budget, trackRejected, options.Mapping);
            // The builder's pooled buffers go back before the appends wait for their WAL syncs.
            using (builder)
            {
                if (fill(builder) is { } unreadable) return IngestOutcome.Failed(IngestStatus.Unreadable, unreadable);
                batches = builder.Build();
            }
            if (builder.Accepted == 0)
            {
                var errors = builder.Errors;
                return Built(builder, IngestStatus.AllRejected, 0, errors.Count > 0
                    ? $"all {builder.Rejected} records were rejected; first: record {errors[0].Index}: " +
                      errors[0].Error
                    : "the body holds no records");
            }
            if (options.IdempotencyKey is { } key) Keyed(batches, key, builder);
            var (accepted, result) = await AppendAsync(grain, batches);
            if (result is { Status: AppendStatus.Duplicate, Receipt: { } receipt })
                return IngestReceipt.Decode(receipt);
            if (result is { Status: AppendStatus.SchemaFull } full && round < 3)
            {
                var known = full.Fields!;
                budget = new FieldBudget(known.ToHashSet(StringComparer.Ordinal),
                    Math.Max(0, full.MaxFields - known.Length), full.MaxFields);
                continue;
            }
            if (accepted > 0) quotas.RecordIngest(target.Org, bytes);
            return result?.Status switch
            {
                null => Built(builder, IngestStatus.Ok, accepted, null),
                AppendStatus.SchemaFull => Built(builder, IngestStatus.AllRejected, 0,
                    result.Error ?? "the stream has too many fields"),
                AppendStatus.Backpressure => Built(builder, IngestStatus.Backpressure, 0,
                    result.Error ?? "the ingester buffer is full; retry later") with
                {
                    RetryAfterSecs = Math.Max(1, result.RetryAfterSecs),
                },
                _ => Built(builder, IngestStatus.WalFailed, accepted,
                    $"{accepted} of {builder.Accepted} records were written before the WAL failed: {result.Error}"),
            };
        }
    }

    /// <summary>Every batch names the key; the last also carries the outcome this request has if it is written
    /// whole, which the stream keeps with it.</summary>
    private static void Keyed(List<IngestBatch> batches, string key, RecordBuilder builder)
    {
        var receipt = IngestReceipt.Encode(Built(builder, IngestStatus.Ok, builder.Accepted, null));
        for (var i = 0; i < batches.Count; i++)
            batches[i] = batches[i].WithKey(key, i == batches.Count - 1 ? receipt : null);
    }

    private static IngestOutcome Built(RecordBuilder b, IngestStatus status, int accepted, string? message) =>
        new(status, accepted, b.Rejected, b.Errors, b.InvalidUtf8Values, message, 0, null, b.RejectedReasons);

    /// <summary>The batches in order; the first that is not written ends it (its result returned).</summary>
    private static async Task<(int Accepted, AppendResult? Failure)> AppendAsync(IStreamGrain grain,
        List<IngestBatch> batches)
    {
        var accepted = 0;
        foreach (var batch in batches)
        {
            // Only the first batch can meet backpressure or a full schema: an admitted request is written whole.
            var result = await grain.Append(batch);
            if (result.Status != AppendStatus.Ok) return (accepted, result);
            accepted += batch.Count;
        }
        return (accepted, null);
    }
}
