using Prometheus;

namespace MoleSignal.Grains.Storage;

/// <summary>The spec's object_store_* metric names, in one place.</summary>
public static class ObjectStoreMetrics
{
    public static readonly Counter Operations = Metrics.CreateCounter(
        "object_store_operations_total", "Object store operations by backend and operation.", "backend", "op");

    public static readonly Counter Errors = Metrics.CreateCounter(
        "object_store_errors_total", "Object store operations that failed.", "backend", "op");

    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "object_store_op_duration_seconds", "Object store operation latency.",
        new HistogramConfiguration
        {
            LabelNames = ["backend", "op"],
            Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16),
        });

    public static readonly Counter ProbeTotal = Metrics.CreateCounter(
        "object_store_probe_total", "Health probes (PUT, GET, DELETE of 128 bytes) by result.", "result");

    public static readonly Gauge ProbeConsecutiveFailures = Metrics.CreateGauge(
        "object_store_probe_consecutive_failures", "Health probes failed in a row.");

    public static readonly Gauge ProbeDegraded = Metrics.CreateGauge(
        "object_store_probe_degraded", "1 while the object store is degraded (3 probes failed in a row).");

    public static readonly Histogram ProbeDuration = Metrics.CreateHistogram(
        "object_store_probe_duration_seconds", "Health probe round-trip time.");
}
