using Prometheus;

namespace MoleSignal.Grains.Compaction;

public static class CompactionMetrics
{
    public static readonly Counter Merges = Metrics.CreateCounter(
        "compactor_merges_total", "Merges by result (ok, skipped: the lease or an input was lost, failed).", "result");

    public static readonly Counter FilesMerged = Metrics.CreateCounter(
        "compactor_files_merged_total", "Input files replaced by merged files.");

    public static readonly Counter BytesRead = Metrics.CreateCounter(
        "compactor_bytes_read_total", "Parquet bytes of the merged inputs.");

    public static readonly Counter BytesWritten = Metrics.CreateCounter(
        "compactor_bytes_written_total", "Parquet and index bytes of the merged outputs.");

    public static readonly Histogram RunDuration = Metrics.CreateHistogram(
        "compactor_run_duration_seconds", "One compactor run over every partition due.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 14) });

    public static readonly Gauge PendingFiles = Metrics.CreateGauge(
        "compactor_pending_files", "Small files in partitions with something to merge, after the last run.");

    public static readonly Counter ExpiredFiles = Metrics.CreateCounter(
        "compactor_expired_files_total", "Data files removed by retention.");

    public static readonly Counter DeletedObjects = Metrics.CreateCounter(
        "compactor_deleted_objects_total", "Objects of replaced or expired files deleted after the delay.");

    public static readonly Counter DumpRuns = Metrics.CreateCounter("file_meta_dump_runs_total",
        "file_meta_dumper runs by result (ok, failed).", "result");

    public static readonly Counter DumpRows = Metrics.CreateCounter("file_meta_dump_rows_total",
        "FileMeta rows moved from the metadata database into manifests.");

    public static readonly Histogram DumpDuration = Metrics.CreateHistogram("file_meta_dump_duration_seconds",
        "Time of one file_meta_dumper run.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 16) });

    public static readonly Counter StageSeconds = Metrics.CreateCounter("compactor_stage_seconds_total",
        "Time merges spent per stage: sort_write (DuckDB reads, sorts and writes the rows; text columns read back), " +
        "index (the sidecar built from them), upload.", "stage");
}
