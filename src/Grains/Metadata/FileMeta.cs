namespace MoleSignal.Grains.Metadata;

/// <summary>One data file of a stream: its Parquet object, its index sidecar and what it covers.</summary>
public sealed record FileMeta(
    string FileId,
    string ObjectKey,
    string IndexKey,
    long MinTs,
    long MaxTs,
    long Rows,
    long OriginalBytes,
    long CompressedBytes,
    long IndexBytes,
    long WalSeqStart,
    long WalSeqEnd,
    /// <summary>A merged file's WAL runs (see <see cref="WalRanges"/>); empty for a flushed file.</summary>
    string WalRanges = "")
{
    /// <summary>The UTC day number (days since 1970-01-01) the file's rows belong to: a file never spans two.</summary>
    public long Day => Partitions.DayOf(MinTs);
}

public sealed record SchemaField(string Name, string Type);

/// <summary>A stream's row in <c>streams</c>.</summary>
public sealed record StreamRecord(string Org, string Type, string Stream, IReadOnlyList<SchemaField> Schema, int SchemaVersion, long FlushedSeq);

public sealed record StreamTotals(long Rows, long OriginalBytes, long CompressedBytes, long Files, long? MinTs, long? MaxTs);
