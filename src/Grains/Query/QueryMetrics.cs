using Prometheus;

namespace MoleSignal.Grains.Query;

public static class QueryMetrics
{
    public static readonly Counter PrunedFiles = Metrics.CreateCounter(
        "tantivy_pruned_files_total", "Data files skipped because their full-text index or bloom filter rules them out.");

    public static readonly Counter CacheHits = Metrics.CreateCounter("cache_hits_total", "Remote data files served from the local cache.");
    public static readonly Counter CacheMisses = Metrics.CreateCounter("cache_misses_total", "Remote data files fetched into the local cache.");
    public static readonly Counter CacheEvictions = Metrics.CreateCounter("cache_invalidations_total", "Cached data files evicted to stay within the cache bound.");
    public static readonly Gauge CacheBytes = Metrics.CreateGauge("cache_bytes", "Bytes of remote data files held in the local cache.");

    public static readonly Gauge Running = Metrics.CreateGauge("query_running", "Queries holding a concurrency slot.");

    public static readonly Counter Queries = Metrics.CreateCounter("query_total", "Queries by result.", "result");
    public static readonly Histogram Duration = Metrics.CreateHistogram("query_duration_seconds", "Query time until the last row.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });

    public static readonly Counter Shards = Metrics.CreateCounter("query_shards_total",
        "Shards of distributed queries: scanned on a querier (remote) or read by the coordinator after the querier failed (local_retry).", "result");

    public static readonly Gauge ShardScansRunning = Metrics.CreateGauge("query_shard_scans_running",
        "Shards of distributed queries this querier is scanning now.");
}
