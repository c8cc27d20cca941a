using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Engine errors to what the user is told: status, code, and the engine's message without server paths. Only
/// what the statement itself got wrong is a 4xx; the engine failing on our data or on itself (a data file it
/// cannot read, I/O, an internal error) is 500 <c>internal</c> and logged with its cause.
/// </summary>
public static class QueryErrors
{
    /// <summary>Error classes the statement causes (its syntax, names, types or values).</summary>
    private static readonly HashSet<DuckDBErrorType> UserErrors =
    [
        DuckDBErrorType.OutOfRange, DuckDBErrorType.Conversion, DuckDBErrorType.Decimal, DuckDBErrorType.MismatchType,
        DuckDBErrorType.DivideByZero, DuckDBErrorType.InvalidType, DuckDBErrorType.NotImplemented,
        DuckDBErrorType.Expression, DuckDBErrorType.Catalog, DuckDBErrorType.Parser, DuckDBErrorType.Syntax,
        DuckDBErrorType.Binder, DuckDBErrorType.InvalidInput, DuckDBErrorType.ParameterNotResolved,
        DuckDBErrorType.ParameterNotAllowed, DuckDBErrorType.Constraint, DuckDBErrorType.Sequence,
    ];

    /// <summary>DuckDB's messages start with the class's name ("Binder Error: ..."); the exception's own type
    /// field is not always set, so the name decides when it names a class.</summary>
    private static readonly Dictionary<string, DuckDBErrorType> ByName = new(StringComparer.Ordinal)
    {
        ["Out of Range"] = DuckDBErrorType.OutOfRange, ["Conversion"] = DuckDBErrorType.Conversion,
        ["Decimal"] = DuckDBErrorType.Decimal, ["Mismatch Type"] = DuckDBErrorType.MismatchType,
        ["Divide by Zero"] = DuckDBErrorType.DivideByZero, ["Invalid type"] = DuckDBErrorType.InvalidType,
        ["Not implemented"] = DuckDBErrorType.NotImplemented, ["Expression"] = DuckDBErrorType.Expression,
        ["Catalog"] = DuckDBErrorType.Catalog, ["Parser"] = DuckDBErrorType.Parser, ["Syntax"] = DuckDBErrorType.Syntax,
        ["Binder"] = DuckDBErrorType.Binder, ["Invalid Input"] = DuckDBErrorType.InvalidInput,
        ["Parameter Not Resolved"] = DuckDBErrorType.ParameterNotResolved,
        ["Parameter Not Allowed"] = DuckDBErrorType.ParameterNotAllowed, ["Constraint"] = DuckDBErrorType.Constraint,
        ["Sequence"] = DuckDBErrorType.Sequence, ["Out of Memory"] = DuckDBErrorType.OutOfMemory,
        ["INTERRUPT"] = DuckDBErrorType.Interrupt, ["Permission"] = DuckDBErrorType.Permission,
        ["IO"] = DuckDBErrorType.Io, ["INTERNAL"] = DuckDBErrorType.Internal, ["FATAL"] = DuckDBErrorType.Fatal,
    };

    private static DuckDBErrorType Classify(DuckDBException e, string message)
    {
        var colon = message.IndexOf(" Error:", StringComparison.Ordinal);
        return colon > 0 && ByName.TryGetValue(message[..colon], out var t) ? t : e.ErrorType;
    }

    public static QueryException Map(Exception e, IEnumerable<string> hidePaths, bool timedOut, ILogger? log = null)
    {
        if (timedOut) return new QueryException(QueryErrorKind.Timeout, "timeout", "the query ran past querier.timeout_secs and was cancelled");
        if (e is QueryException q) return q;
        if (e is OperationCanceledException) return new QueryException(QueryErrorKind.Cancelled, "cancelled", "the query was cancelled");
        var message = e.Message;
        foreach (var p in hidePaths) message = message.Replace(p.TrimEnd('/'), "<data>");
        message = message.Split('\n')[0];
        if (e is DuckDBException d)
        {
            switch (Classify(d, message))
            {
                case DuckDBErrorType.OutOfMemory:
                    return new QueryException(QueryErrorKind.TooLarge, "memory_limit", message + " (querier.memory_limit_mb)");
                case DuckDBErrorType.Interrupt:
                    return new QueryException(QueryErrorKind.Cancelled, "cancelled", "the query was cancelled");
                case DuckDBErrorType.Permission:
                    return new QueryException(QueryErrorKind.Forbidden, "forbidden", message);
                case var t when UserErrors.Contains(t) && !AboutStoredData(message):
                    return new QueryException(QueryErrorKind.Invalid, "invalid_sql", message);
            }
            if (message.Contains("configuration has been locked", StringComparison.Ordinal))
                return new QueryException(QueryErrorKind.Forbidden, "forbidden", message);
        }
        log?.LogError(e, "query failed inside the engine: {Message}", message);
        return new QueryException(QueryErrorKind.Internal, "internal",
            "the query failed inside the engine (see the server log): " + message);
    }

    /// <summary>An input error about a data file (an unreadable Parquet page) is ours, not the statement's.</summary>
    private static bool AboutStoredData(string message) =>
        message.Contains("Parquet", StringComparison.OrdinalIgnoreCase)
        || message.Contains("<data>", StringComparison.Ordinal);
}
