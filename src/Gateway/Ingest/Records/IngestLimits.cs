namespace MoleSignal.Gateway.Ingest;

/// <summary>Per-record and per-request limits of the ingest adapters (from [ingester] and [http]).</summary>
public sealed record IngestLimits(
    int MaxColumns = 1000,
    int MaxRecordBytes = 1 << 20,
    int MaxNestingDepth = 32,
    int FlattenLevel = 3,
    long MaxBodyBytes = 64L << 20,
    int MaxBatchBytes = 8 << 20,
    int MaxRequestFields = 10_000,
    int AllowedPastHours = 0,
    int AllowedFutureHours = 24);

/// <summary>
/// The fields a stream may still gain: its schema is at <c>max_stream_fields</c> once <see cref="AllowedNew"/>
/// fields outside <see cref="Known"/> were added. A request that would pass it is built again under this budget.
/// </summary>
public sealed record FieldBudget(IReadOnlySet<string> Known, int AllowedNew, int MaxStreamFields);

/// <summary>The ingest limits in force now (they follow config reloads).</summary>
public sealed class IngestLimitsSource(Func<IngestLimits> current)
{
    public IngestLimits Current => current();
}
