using System.Data.Common;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Columnar;

namespace MoleSignal.Grains.Query;

/// <summary>
/// A running statement read row by row (DuckDB streaming mode, so rows are not buffered before the first one);
/// owns the connection, the scratch directory and the concurrency slot until disposed.
/// </summary>
internal sealed class QueryCursor : IArrowCursor
{
    private readonly DuckDBConnection _conn;
    private readonly string _sql;
    private readonly DirectoryInfo _scratch;
    private readonly Action _release;
    private readonly Stopwatch _clock;
    private readonly QueryStats _scanned;
    private readonly string[] _hidePaths;
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationTokenSource _cancel;
    private DuckDBCommand? _cmd;
    private DbDataReader? _reader;
    private CancellationTokenRegistration _registration;
    private int _disposed;
    private readonly ILogger? _log;

    /// <param name="release">Frees what the query held (its concurrency slot, its pinned cache files).</param>
    public QueryCursor(DuckDBConnection conn, string sql, DirectoryInfo scratch, Action release, Stopwatch clock,
        QueryStats scanned, TimeSpan timeout, string[] hidePaths, CancellationToken requestAborted, ILogger? log = null)
    {
        _log = log;
        _conn = conn;
        _sql = sql;
        _scratch = scratch;
        _release = release;
        _clock = clock;
        _scanned = scanned;
        _hidePaths = hidePaths;
        _timeout = new CancellationTokenSource(timeout);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, requestAborted);
    }

    public IReadOnlyList<QueryColumn> Columns { get; private set; } = [];

    public QueryStats Stats => _scanned with { TookMs = _clock.ElapsedMilliseconds };

    public async Task StartAsync()
    {
        _cmd = _conn.CreateCommand();
        _cmd.CommandText = _sql;
        _cmd.UseStreamingMode = true;
        _registration = _cancel.Token.Register(() => _cmd.Cancel());
        try
        {
            _reader = await Task.Run(() => _cmd.ExecuteReader(), CancellationToken.None);
        }
        catch (Exception e)
        {
            throw QueryErrors.Map(e, _hidePaths, _timeout.IsCancellationRequested, _log);
        }
        Columns = Enumerable.Range(0, _reader.FieldCount).Select(i => new QueryColumn(_reader.GetName(i), _reader.GetDataTypeName(i).ToUpperInvariant())).ToList();
    }

    public async IAsyncEnumerable<object?[]> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var link = ct.Register(() => _cmd?.Cancel());
        var reader = _reader!;
        while (true)
        {
            bool more;
            try
            {
                more = reader.Read();
            }
            catch (Exception e)
            {
                throw QueryErrors.Map(e, _hidePaths, _timeout.IsCancellationRequested, _log);
            }
            if (!more) break;
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : JsonValue(reader.GetValue(i));
            yield return row;
        }
        QueryMetrics.Queries.WithLabels("ok").Inc();
        QueryMetrics.Duration.Observe(_clock.Elapsed.TotalSeconds);
        await Task.CompletedTask;
    }

    /// <summary>
    /// The rows as Arrow IPC chunks, instead of <see cref="StartAsync"/> and <see cref="ReadRowsAsync"/>: DuckDB
    /// reads ahead at most one chunk of what the caller has not taken yet.
    /// </summary>
    public async IAsyncEnumerable<ArrowChunk> ReadArrowAsync([EnumeratorCancellation] CancellationToken ct)
    {
        _cmd = _conn.CreateCommand();
        _cmd.CommandText = _sql;
        _cmd.UseStreamingMode = true;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token, ct);
        var chunks = Channel.CreateBounded<ArrowChunk>(1);
        var produce = Task.Run(() => ArrowChunks.ProduceAsync(_cmd, chunks.Writer,
            e => QueryErrors.Map(e, _hidePaths, _timeout.IsCancellationRequested, _log), stop.Token),
            CancellationToken.None);
        try
        {
            // The producer ends the channel on a timeout, with the mapped error.
            await foreach (var chunk in chunks.Reader.ReadAllAsync(ct)) yield return chunk;
        }
        finally
        {
            // The statement must be over before the cursor's connection may be disposed.
            stop.Cancel();
            await produce;
        }
        QueryMetrics.Queries.WithLabels("ok").Inc();
        QueryMetrics.Duration.Observe(_clock.Elapsed.TotalSeconds);
    }

    /// <summary>Engine values as JSON-friendly values.</summary>
    private static object? JsonValue(object v) => v switch
    {
        BigInteger b => b >= long.MinValue && b <= long.MaxValue ? (long)b : b.ToString(),
        decimal d => (double)d,
        float f => (double)f,
        DateTime t => t.ToString("O"),
        DateTimeOffset t => t.ToString("O"),
        DateOnly d => d.ToString("yyyy-MM-dd"),
        TimeOnly t => t.ToString("HH:mm:ss.ffffff"),
        TimeSpan t => t.ToString(),
        byte[] bytes => Convert.ToBase64String(bytes),
        Guid g => g.ToString(),
        System.Collections.IDictionary m => m.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => m[k] is { } x ? JsonValue(x) : null),
        System.Collections.IList l => l.Cast<object?>().Select(x => x is null ? null : JsonValue(x)).ToList(),
        _ => v,
    };

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return ValueTask.CompletedTask;
        _registration.Dispose();
        _reader?.Dispose();
        _cmd?.Dispose();
        _conn.Dispose();
        _cancel.Dispose();
        _timeout.Dispose();
        QueryService.TryDelete(_scratch.FullName);
        _release();
        return ValueTask.CompletedTask;
    }
}
