using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Storage;

/// <summary>
/// The object-key layout, in one place: data files <c>{org}/{type}/{stream}/{date}/{file-id}.parquet|.idx</c>,
/// manifests of dumped partitions <c>{org}/{type}/{stream}/{date}/_file_meta-{version}.parquet</c>,
/// quarantined WAL runs <c>{org}/_quarantine/{type}/{stream}/{first-seq}-{last-seq}.wal</c>, job results
/// <c>{org}/search_jobs/{job_id}.ndjson</c>, rendered reports <c>{org}/reports/{report_id}/{run}.svg|png|pdf</c>,
/// probes <c>_health/{uuid}.probe</c>. Org names start with a letter
/// or digit, so no org's keys meet the <c>_</c> names. Every store validates keys against escaping its root.
/// </summary>
public static class ObjectKey
{
    /// <summary>A data file's key without its extension.</summary>
    public static string DataFile(StreamKey key, string date, string fileId) =>
        $"{key.Org}/{key.Type}/{key.Stream}/{date}/{fileId}";

    /// <summary>A dumped partition's manifest; each dump writes a new version (file ids never start with
    /// '_').</summary>
    public static string Manifest(StreamKey key, string date, long version) =>
        $"{key.Org}/{key.Type}/{key.Stream}/{date}/_file_meta-{version}.parquet";

    /// <summary>Whether the key is one of the org's own objects that queries may read (not its quarantine).</summary>
    public static bool IsOrgData(string org, string key) =>
        key.Length > org.Length && key.StartsWith(org, StringComparison.Ordinal) && key[org.Length] == '/'
        && !key.AsSpan(org.Length).StartsWith("/" + QuarantineDir + "/", StringComparison.Ordinal);

    private const string QuarantineDir = "_quarantine";

    public static string Quarantine(StreamKey key, long firstSeq, long lastSeq) =>
        $"{key.Org}/{QuarantineDir}/{key.Type}/{key.Stream}/{firstSeq:D20}-{lastSeq:D20}.wal";

    public static string SearchJobResult(string org, string jobId) => $"{org}/search_jobs/{jobId}.ndjson";

    /// <summary>A report run's file; <paramref name="run"/> is the run's time (µs), so a run redone after a crash
    /// overwrites its own files.</summary>
    public static string ReportFile(string org, string reportId, long run, string extension) =>
        $"{org}/reports/{reportId}/{run}.{extension}";

    public static string Probe(Guid id) => $"_health/{id:N}.probe";

    public static string Validate(string key)
    {
        if (string.IsNullOrEmpty(key)) throw new ArgumentException("object key is empty");
        if (key.Length > 1024) throw new ArgumentException("object key is longer than 1024 characters");
        if (key[0] == '/' || key.Contains('\\') || key.Contains('\0'))
            throw new ArgumentException($"object key '{key}' is not a relative '/'-separated key");
        foreach (var part in key.Split('/'))
            if (part is "" or "." or "..")
                throw new ArgumentException($"object key '{key}' has an empty, '.' or '..' segment");
        return key;
    }
}
