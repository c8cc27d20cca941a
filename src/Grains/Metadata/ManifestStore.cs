using System.Collections.Concurrent;
using MoleSignal.Grains.Storage;
using Parquet.Serialization;

namespace MoleSignal.Grains.Metadata;

/// <summary>
/// Manifests of dumped partitions: a partition's FileMeta rows as one Parquet object. A manifest's key carries the
/// dump's version, so an object once written is never overwritten (a partition restored and dumped again gets a new
/// key) and a parsed manifest can be cached by key for as long as it is kept.
/// </summary>
public sealed class ManifestStore(IObjectStore store)
{
    /// <summary>Parsed manifests; a few hundred bytes a file, bounded by count.</summary>
    private const int CachedManifests = 512;

    private readonly ConcurrentDictionary<string, IReadOnlyList<FileMeta>> _cache = new(StringComparer.Ordinal);

    /// <summary>A manifest's row: FileMeta's fields, as Parquet.Net serializes a class.</summary>
    public sealed class Row
    {
        public string FileId { get; set; } = "";
        public string ObjectKey { get; set; } = "";
        public string IndexKey { get; set; } = "";
        public long MinTs { get; set; }
        public long MaxTs { get; set; }
        public long Rows { get; set; }
        public long OriginalBytes { get; set; }
        public long CompressedBytes { get; set; }
        public long IndexBytes { get; set; }
        public long WalSeqStart { get; set; }
        public long WalSeqEnd { get; set; }
        public string WalRanges { get; set; } = "";
    }

    /// <summary>The key of the partition's manifest of <paramref name="version"/> (each dump takes a new
    /// one).</summary>
    public static string KeyFor(PartitionKey p, long version) =>
        ObjectKey.Manifest(p.Stream, Partitions.DayName(p.Day), version);

    /// <summary>Writes the manifest of <paramref name="files"/> as <paramref name="key"/>.</summary>
    public async Task WriteAsync(string key, IReadOnlyList<FileMeta> files, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await ParquetSerializer.SerializeAsync(files.Select(f => new Row
        {
            FileId = f.FileId, ObjectKey = f.ObjectKey, IndexKey = f.IndexKey, MinTs = f.MinTs, MaxTs = f.MaxTs,
            Rows = f.Rows, OriginalBytes = f.OriginalBytes, CompressedBytes = f.CompressedBytes,
            IndexBytes = f.IndexBytes,
            WalSeqStart = f.WalSeqStart, WalSeqEnd = f.WalSeqEnd, WalRanges = f.WalRanges,
        }), buffer, cancellationToken: ct);
        await store.PutAsync(key, buffer.ToArray(), ct);
    }

    /// <summary>The files a dumped partition's manifest lists; a manifest that is gone is an error, never
    /// "none".</summary>
    public async Task<IReadOnlyList<FileMeta>> ReadAsync(DumpedPartition d, CancellationToken ct)
    {
        if (_cache.TryGetValue(d.ManifestKey, out var cached)) return cached;
        var bytes = await store.GetAsync(d.ManifestKey, ct)
                    ?? throw new FileNotFoundException($"the manifest {d.ManifestKey} of {d.Partition} is missing");
        using var stream = new MemoryStream(bytes);
        var rows = (await ParquetSerializer.DeserializeAsync<Row>(stream, cancellationToken: ct)).Data;
        var files = new List<FileMeta>(rows.Count);
        foreach (var r in rows)
            files.Add(new FileMeta(r.FileId, r.ObjectKey, r.IndexKey, r.MinTs, r.MaxTs, r.Rows, r.OriginalBytes,
                r.CompressedBytes, r.IndexBytes, r.WalSeqStart, r.WalSeqEnd, r.WalRanges));
        if (files.Count != d.Files)
            throw new InvalidDataException($"the manifest {d.ManifestKey} lists {files.Count} files, not {d.Files}");
        if (_cache.Count >= CachedManifests) _cache.Clear();
        _cache[d.ManifestKey] = files;
        return files;
    }
}
