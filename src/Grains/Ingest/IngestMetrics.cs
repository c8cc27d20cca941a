using Prometheus;

namespace MoleSignal.Grains.Ingest;

public static class IngestMetrics
{
    public static readonly Counter Records = Metrics.CreateCounter(
        "ingest_records_total", "Records by result (accepted, rejected, backpressure).", "result");

    public static readonly Counter IdempotentReplays = Metrics.CreateCounter(
        "ingest_idempotent_replays_total",
        "Appends answered from an Idempotency-Key acknowledged before, writing nothing.");

    public static readonly Counter Bytes = Metrics.CreateCounter(
        "ingest_bytes_total", "Flattened record bytes accepted into the WAL.");

    public static readonly Gauge BufferBytes = Metrics.CreateGauge(
        "ingest_buffer_bytes", "Bytes of acknowledged records not yet flushed, on this node.");

    public static readonly Histogram FlushDuration = Metrics.CreateHistogram(
        "flush_duration_seconds", "One stream flush: encode, index, upload, commit.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 14) });

    public static readonly Counter FlushedRows = Metrics.CreateCounter(
        "flush_rows_total", "Rows written to data files.");

    public static readonly Counter FlushErrors = Metrics.CreateCounter(
        "flush_errors_total", "Flushes that failed and will be retried.");
}
