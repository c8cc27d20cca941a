namespace MoleSignal.Grains.Query;

public sealed record QuerySettings(
    TimeSpan Timeout,
    int MaxConcurrent,
    int MemoryLimitMb,
    int Threads,
    /// <summary>Rows /api/v1/query returns when the request sets no limit (streaming has none).</summary>
    long DefaultLimit,
    /// <summary>Scratch space: <c>{TempDir}/{org}</c> holds an org's query scratch and its engine's spill
    /// files.</summary>
    string TempDir,
    /// <summary>Org engines kept open at once; the least recently used one beyond it is closed.</summary>
    int MaxEngines = 16,
    /// <summary>An org engine unused this long is closed (its threads and caches go with it).</summary>
    TimeSpan? EngineIdle = null);
