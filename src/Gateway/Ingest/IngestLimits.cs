namespace MoleSignal.Gateway.Ingest;

/// <summary>Per-record limits of the JSON adapter (from [ingester] and [http]).</summary>
public sealed record IngestLimits(
    int MaxColumns = 1000,
    int MaxRecordBytes = 1 << 20,
    int MaxNestingDepth = 32,
    int FlattenLevel = 3,
    long MaxBodyBytes = 64L << 20,
    int MaxBatchBytes = 8 << 20);
