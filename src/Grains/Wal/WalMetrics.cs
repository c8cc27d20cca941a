using Prometheus;

namespace MoleSignal.Grains.Wal;

public static class WalMetrics
{
    public static readonly Histogram AppendLockWait = Metrics.CreateHistogram(
        "wal_append_lock_wait_seconds", "Time an append waited for the WAL writer before its bytes were written.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00005, 2, 18) });

    public static readonly Gauge AppendInflight = Metrics.CreateGauge(
        "wal_append_inflight", "Appends enqueued to a WAL writer and not yet durable.");

    public static readonly Counter FsyncErrors = Metrics.CreateCounter(
        "wal_fsync_errors_total", "WAL writes or syncs that failed.");

    public static readonly Histogram FsyncDuration = Metrics.CreateHistogram(
        "wal_fsync_duration_seconds", "Duration of one WAL fsync/fdatasync.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });

    public static readonly Counter AppendBytes = Metrics.CreateCounter(
        "wal_append_bytes_total", "Bytes appended to WAL segments.");
}
