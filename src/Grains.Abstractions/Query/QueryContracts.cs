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

/// <summary>
/// A query failure with the HTTP status and error code it maps to; the message never holds server paths.
/// Serializable: a shard's refusal reaches the coordinator whole.
/// </summary>
[GenerateSerializer]
public sealed class QueryException(int status, string code, string message) : Exception(message)
{
    [Id(0)] public int Status { get; } = status;
    [Id(1)] public string Code { get; } = code;
}
