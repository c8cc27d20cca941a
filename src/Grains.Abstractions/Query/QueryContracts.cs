namespace MoleSignal.Grains.Abstractions.Query;

/// <summary>
/// A user query: SQL over the org's streams, optionally bounded in time (µs, inclusive start, exclusive end).
/// <see cref="Clusters"/> names the clusters to read (<c>local</c> and remote clusters' names); null reads this
/// cluster alone.
/// </summary>
public sealed record QueryRequest(string Org, string Sql, long? StartTime = null, long? EndTime = null,
    long? Limit = null, IReadOnlyList<string>? Clusters = null);

public sealed record QueryColumn(string Name, string Type);

/// <param name="Federation">Which clusters a federated query read, and which it could not; null otherwise.</param>
public sealed record QueryStats(long ScannedRows, long ScannedBytes, long ScannedFiles, long TookMs,
    FederationStats? Federation = null);

/// <summary>An open result: columns now, rows as they are read, stats once the rows are done.</summary>
public interface IQueryCursor : IAsyncDisposable
{
    IReadOnlyList<QueryColumn> Columns { get; }

    /// <summary>Each row's values: long, double, bool, string, null ... (JSON-friendly).</summary>
    IAsyncEnumerable<object?[]> ReadRowsAsync(CancellationToken ct);

    QueryStats Stats { get; }
}

public interface IQueryService
{
    /// <summary>Throws <see cref="QueryException"/> for anything the user should be told.</summary>
    Task<IQueryCursor> OpenAsync(QueryRequest request, CancellationToken ct);

    /// <summary>
    /// As <see cref="OpenAsync"/>, but null when the query would scan more than <paramref name="maxRows"/> rows
    /// (FileMeta counts after time pruning; the auto-async threshold): then it should run as a search job.
    /// </summary>
    Task<IQueryCursor?> OpenUnlessLargerAsync(QueryRequest request, long maxRows, CancellationToken ct);
}

/// <summary>What kind of failure a query met; the edge (HTTP, gRPC) maps each kind to one status.</summary>
public enum QueryErrorKind : byte
{
    /// <summary>The request or its SQL is wrong: not one SELECT, unknown cluster, a bad scan.</summary>
    Invalid,
    /// <summary>The SQL reaches past what the org may read: a file, a setting, another org's table.</summary>
    Forbidden,
    /// <summary>The query needs a licensed feature (federation) this node's license lacks.</summary>
    Unlicensed,
    /// <summary>The query ran past <c>[querier].timeout_secs</c>.</summary>
    Timeout,
    /// <summary>The rows it holds exceed <c>[querier].memory_limit_mb</c>.</summary>
    TooLarge,
    /// <summary>Every query slot is taken: retry shortly.</summary>
    Busy,
    /// <summary>The caller went away or cancelled it.</summary>
    Cancelled,
    Internal,
}

/// <summary>
/// A query failure: its kind, the API's error code and a message that never holds server paths. Serializable: a
/// shard's refusal reaches the coordinator whole.
/// </summary>
[GenerateSerializer]
public sealed class QueryException(QueryErrorKind kind, string code, string message) : Exception(message)
{
    [Id(0)] public QueryErrorKind Kind { get; } = kind;
    [Id(1)] public string Code { get; } = code;
}
