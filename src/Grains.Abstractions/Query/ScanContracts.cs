using Orleans.Concurrency;

namespace MoleSignal.Grains.Abstractions.Query;

/// <summary>One data file of a shard; with <see cref="Rows"/>, only those row numbers (the rows the full-text index found).</summary>
[GenerateSerializer, Immutable]
public sealed record ScanFile([property: Id(0)] string ObjectKey, [property: Id(1)] long[]? Rows);

/// <summary>
/// A shard of a distributed query: the files to read as the stream's view (typed by <see cref="Fields"/>, bounded
/// by the time range), and <see cref="Sql"/>, a plain SELECT of the projection with the pushed-down filter over
/// the view <see cref="View"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ScanRequest(
    [property: Id(0)] string Org,
    [property: Id(1)] string View,
    [property: Id(2)] (string Name, string Type)[] Fields,
    [property: Id(3)] ScanFile[] Files,
    [property: Id(4)] long MinTs,
    [property: Id(5)] long MaxTs,
    [property: Id(6)] string Sql);

/// <summary>Part of a shard's result: one Arrow IPC stream (schema, record batches, end marker).</summary>
[GenerateSerializer, Immutable]
public sealed record ScanChunk([property: Id(0)] byte[] ArrowIpc, [property: Id(1)] long Rows);

/// <summary>
/// Scans shards of distributed queries on a querier silo. Keyed <c>{queriers}:{shard}</c>, so a change in the
/// number of queriers gives fresh keys placed over the new set.
/// </summary>
public interface IScanGrain : IGrainWithStringKey
{
    /// <summary>The shard's rows as Arrow IPC chunks, produced while they are read.</summary>
    IAsyncEnumerable<ScanChunk> Scan(ScanRequest request, CancellationToken ct = default);
}
