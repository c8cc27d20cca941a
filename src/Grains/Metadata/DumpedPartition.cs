namespace MoleSignal.Grains.Metadata;

/// <summary>
/// A cold partition whose file rows live in a manifest object (<c>dumped_partitions</c>): the manifest's key and
/// the totals of the files it lists.
/// </summary>
public sealed record DumpedPartition(
    PartitionKey Partition,
    string ManifestKey,
    long Files,
    long Rows,
    long MinTs,
    long MaxTs,
    long OriginalBytes,
    long CompressedBytes,
    long IndexBytes,
    long WalSeqStart,
    long WalSeqEnd);

/// <summary>A partition's files as one snapshot of the metadata saw them: its live rows, and its manifest if
/// any.</summary>
public sealed record FileSnapshot(IReadOnlyList<FileMeta> Live, IReadOnlyList<DumpedPartition> Dumped);
