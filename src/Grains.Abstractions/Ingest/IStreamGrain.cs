using Orleans.Concurrency;

namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>One stream's write side: its WAL, its unflushed buffer and its flushes. Keyed <c>org|type|stream</c>.</summary>
public interface IStreamGrain : IGrainWithStringKey
{
    /// <summary>Appends to the WAL and the buffer; completes once the batch is durable per the WAL strategy.</summary>
    [AlwaysInterleave]
    Task<AppendResult> Append(IngestBatch batch);

    /// <summary>Pushes every batch acknowledged from now on to <paramref name="observer"/> (again: renews it);
    /// false when the stream already feeds <see cref="Tail.TailLimits.SubscribersPerStream"/> others.</summary>
    [AlwaysInterleave]
    Task<bool> Tail(Tail.ITailObserver observer);

    [AlwaysInterleave]
    Task Untail(Tail.ITailObserver observer);

    /// <summary>Flushes everything buffered now and waits for it (replay, shutdown, tests).</summary>
    Task Flush();

    /// <summary>
    /// For a node's drain: refuses appends from now on, flushes everything, deletes the stream's WAL on this node
    /// and deactivates. Throws (the WAL kept) if a flush fails.
    /// </summary>
    Task Drain();

    /// <summary>
    /// Deletes the stream: refuses appends from now on, lets running flushes finish, drops the buffer and the WAL
    /// on this node, removes the stream's files, schema and settings from the metadata (their objects are queued for
    /// deletion after <paramref name="deleteObjectsAfterMicros"/>, with <paramref name="dumpedObjects"/>, the files its
    /// dumped partitions' manifests list) and deactivates. Returns the files removed.
    /// </summary>
    Task<long> Delete(long deleteObjectsAfterMicros, string[] dumpedObjects);

    [AlwaysInterleave]
    Task<StreamBufferStats> GetBufferStats();

    /// <summary>Acknowledged, not yet flushed batches overlapping [minTs, maxTs], for queries of fresh data.</summary>
    [AlwaysInterleave]
    Task<BufferedBatches> GetBuffered(long minTs, long maxTs);
}

[GenerateSerializer, Immutable]
public sealed record StreamBufferStats(
    [property: Id(0)] long Records,
    [property: Id(1)] long Bytes,
    [property: Id(2)] long MinTimestamp,
    [property: Id(3)] long MaxTimestamp,
    [property: Id(4)] long OriginalBytes,
    /// <summary>The live schema (name, type), which may be ahead of the stored one.</summary>
    [property: Id(5)] (string Name, string Type)[] Fields,
    /// <summary>The buffer holds WAL seqs from here on: data files reaching this seq repeat buffered records.</summary>
    [property: Id(6)] long BufferedFromSeq);

/// <summary>
/// A consistent view of the buffer for a query: its batches, and the first WAL seq it holds. A flush may commit
/// a data file of these very records while the query binds; files with <c>wal_seq_end &gt;= FromSeq</c> are
/// skipped so no record is counted twice, and none is lost.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record BufferedBatches(
    [property: Id(0)] IngestBatch[] Batches,
    [property: Id(1)] long FromSeq,
    /// <summary>The live schema (name, type) the query types the stream's columns by.</summary>
    [property: Id(2)] (string Name, string Type)[] Fields);
