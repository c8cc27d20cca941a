namespace MoleSignal.Grains.Query;

public sealed record QuerySettings(
    TimeSpan Timeout,
    int MaxConcurrent,
    int MemoryLimitMb,
    int Threads,
    /// <summary>Rows /api/v1/query returns when the request sets no limit (streaming has none).</summary>
    long DefaultLimit,
    /// <summary>Per-query scratch space (buffered records as NDJSON).</summary>
    string TempDir);
