using System.Runtime.CompilerServices;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Query;

namespace MoleSignal.Grains.Federation;

/// <summary>
/// The remote side of a federated query: the scan becomes <c>SELECT columns FROM stream WHERE filter</c> (the
/// newest n by <c>_timestamp</c> when asked), run as a query of the caller's org: the same gate, pruning (time,
/// index, blooms), buffer, limits and timeout as any other, its rows sent as Arrow chunks as they are read.
/// </summary>
public sealed class StreamScanner(QueryService queries) : IStreamScanner
{
    public async IAsyncEnumerable<ArrowChunk> ScanAsync(StreamScan scan, [EnumeratorCancellation] CancellationToken ct)
    {
        var request = new QueryRequest(scan.Org, Sql(scan), scan.StartTime, scan.EndTime, Limit: 0);
        await using var cursor = await queries.OpenArrowAsync(request, ct);
        await foreach (var chunk in cursor.ReadArrowAsync(ct)) yield return chunk;
    }

    public static string Sql(StreamScan scan)
    {
        if (!string.IsNullOrWhiteSpace(scan.Sql)) return scan.Sql;
        if (!SqlInspector.StreamSchemas.Contains(scan.StreamType))
            throw new QueryException(QueryErrorKind.Invalid, "invalid_scan",
                $"stream_type must be one of {string.Join(", ", SqlInspector.StreamSchemas)}");
        var columns = scan.Columns.Count == 0 ? "*" : string.Join(", ", scan.Columns.Select(DuckSql.Identifier));
        var table = $"{DuckSql.Identifier(scan.StreamType)}.{DuckSql.Identifier(scan.Stream)}";
        // The filter's own parentheses keep it one term, whatever it holds; the gate parses the whole statement.
        var where = string.IsNullOrWhiteSpace(scan.Filter) ? "" : $"\nWHERE ({scan.Filter}\n)";
        var newest = scan.Newest > 0 ? $"\nORDER BY _timestamp DESC LIMIT {scan.Newest}" : "";
        return $"SELECT {columns} FROM {table}{where}{newest}";
    }
}
