using Prometheus;

namespace MoleSignal.Grains.Federation;

public static class FederationMetrics
{
    public static readonly Counter RemoteScans = Metrics.CreateCounter("federation_remote_scans_total",
        "Scans of remote clusters by federated queries, by cluster and result (ok, unreachable, unauthenticated, " +
        "forbidden, timeout, disabled, error).", "cluster", "result");

    public static readonly Histogram RemoteScanDuration = Metrics.CreateHistogram(
        "federation_remote_scan_duration_seconds", "Time of one remote cluster's scan, until its last chunk.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
}
