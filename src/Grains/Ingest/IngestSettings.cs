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
    FieldPatterns IdFields);
