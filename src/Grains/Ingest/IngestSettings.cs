using MoleSignal.Grains.Index;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Grains.Ingest;

/// <summary>The ingester's settings, replaced whole when the config reloads (the WAL keys stay as started).</summary>
public sealed record IngestSettings(
    WalSettings Wal,
    long BufferMaxBytes,
    TimeSpan FlushInterval,
    long FlushThresholdBytes,
    FieldPatterns TextFields,
    FieldPatterns IdFields,
    /// <summary>A stream's schema never grows past this many fields (<c>max_stream_fields</c>).</summary>
    int MaxStreamFields = 2000,
    /// <summary>A run whose flush fails this many times in a row for a reason other than I/O is quarantined.</summary>
    int MaxFlushAttempts = 5,
    /// <summary>A retry with an acknowledged request's Idempotency-Key gets its answer this long
    /// (<c>idempotency_window_secs</c>).</summary>
    TimeSpan IdempotencyWindow = default);
