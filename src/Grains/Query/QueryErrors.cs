using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Query;

/// <summary>Engine errors to what the user is told: status, code, and the engine's message without server paths.</summary>
public static class QueryErrors
{
    public static QueryException Map(Exception e, IEnumerable<string> hidePaths, bool timedOut)
    {
        if (timedOut) return new QueryException(408, "timeout", "the query ran past querier.timeout_secs and was cancelled");
        if (e is QueryException q) return q;
        if (e is OperationCanceledException) return new QueryException(499, "cancelled", "the query was cancelled");
        var message = e.Message;
        foreach (var p in hidePaths) message = message.Replace(p.TrimEnd('/'), "<data>");
        message = message.Split('\n')[0];
        if (e is not DuckDBException) return new QueryException(500, "internal", "the query failed: " + message);
        if (message.StartsWith("Out of Memory", StringComparison.Ordinal))
            return new QueryException(413, "memory_limit", message + " (querier.memory_limit_mb)");
        if (message.StartsWith("Permission Error", StringComparison.Ordinal) || message.Contains("configuration has been locked", StringComparison.Ordinal))
            return new QueryException(400, "forbidden", message);
        if (message.StartsWith("INTERRUPT", StringComparison.Ordinal))
            return new QueryException(499, "cancelled", "the query was cancelled");
        return new QueryException(400, "invalid_sql", message);
    }
}
