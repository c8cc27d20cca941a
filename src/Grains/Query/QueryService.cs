using System.Diagnostics;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Federation;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Runs user SQL on the org's DuckDB instance (see <see cref="OrgEngines"/>): admits it (<see cref="QueryAdmission"/>),
/// answers a bare count from metadata (<see cref="CountAllShortcut"/>), binds each stream the SQL names as a TEMP
/// view (<see cref="StreamBinder"/>, shards through <see cref="ShardFanOut"/>, a federated aggregate through
/// <see cref="FederatedPartials"/>), rewrites match_all (<see cref="MatchAllRewrite"/>), then runs the user's single
/// SELECT in streaming mode behind a cursor that owns the connection.
/// </summary>
public sealed class QueryService : IQueryService
{
    private readonly LiveSettings<QuerySettings> _settings;
    private readonly OrgEngines _engines;
    private readonly ObjectFiles _files;
    private readonly Federator? _federator;
    private readonly Microsoft.Extensions.Logging.ILogger<QueryService>? _log;
    private readonly QueryAdmission _admission;
    private readonly CountAllShortcut _countAll;
    private readonly ShardFanOut _fanOut;
    private readonly StreamBinder _binder;
    private readonly FederatedPartials _partials;

    public QueryService(LiveSettings<QuerySettings> settings, StreamMetaStore meta, FileIndex fileIndex,
        IGrainFactory grains, ObjectFiles files, IndexPruner pruner, OrgEngines engines, IStreamCatalog catalog,
        LiveSettings<IngestSettings> ingest, QuerierSilos? queriers = null, Federator? federator = null,
        Microsoft.Extensions.Logging.ILogger<QueryService>? log = null)
    {
        _settings = settings;
        _engines = engines;
        _files = files;
        _federator = federator;
        _log = log;
        var text = new FullTextFields(ingest);
        _admission = new QueryAdmission(settings);
        _countAll = new CountAllShortcut(catalog);
        _fanOut = new ShardFanOut(settings, grains, files, text, queriers);
        _binder = new StreamBinder(settings, meta, fileIndex, grains, files, pruner, _fanOut, text);
        _partials = new FederatedPartials(settings, grains, _binder, async (partial, ct) =>
            (IArrowCursor)(await OpenCoreAsync(partial, long.MaxValue, arrow: true, ct, nested: true))!);
    }

    public async Task<IQueryCursor> OpenAsync(QueryRequest request, CancellationToken ct) =>
        (await OpenUnlessLargerAsync(request, long.MaxValue, ct))!;

    public Task<IQueryCursor?> OpenUnlessLargerAsync(QueryRequest request, long maxRows, CancellationToken ct) =>
        OpenCoreAsync(request, maxRows, arrow: false, ct);

    /// <summary>A cursor whose rows are read as Arrow chunks (<see cref="QueryCursor.ReadArrowAsync"/>).</summary>
    internal async Task<IArrowCursor> OpenArrowAsync(QueryRequest request, CancellationToken ct) =>
        (IArrowCursor)(await OpenCoreAsync(request, long.MaxValue, arrow: true, ct))!;

    /// <param name="arrow">The cursor is read as Arrow chunks: the statement is not started.</param>
    /// <param name="nested">A part of a query that holds a slot already (a federated aggregate's local partial):
    /// it takes none of its own.</param>
    private async Task<IQueryCursor?> OpenCoreAsync(QueryRequest request, long maxRows, bool arrow,
        CancellationToken ct, bool nested = false)
    {
        var s = _settings.Current;
        var leave = await _admission.EnterAsync(nested, ct);
        var clock = Stopwatch.StartNew();
        var scratch = new DirectoryInfo(Path.Combine(_engines.ScratchRoot(request.Org),
            "q-" + Guid.NewGuid().ToString("N")));
        string[] hide = [_files.OrgDirectory(request.Org), scratch.FullName];
        var held = new QueryHolds(_files);
        DuckDBConnection? conn = null;
        var owned = false; // a cursor owns the slot, the connection, the holds and the scratch files
        // Everything the query took, given back when it ends before a cursor owns it.
        void Abandon()
        {
            conn?.Dispose();
            TryDelete(scratch.FullName);
            held.Release();
            leave();
        }
        try
        {
            var federation = _federator is null ? null : await _federator.PlanAsync(request, ct);
            if (federation is null && ClusterTargets.AnyRemote(request.Clusters))
                throw new QueryException(QueryErrorKind.Invalid, "invalid_clusters",
                    "this node does not federate queries");
            conn = _engines.Connect(request.Org);
            var shape = SqlInspector.Inspect(conn, request.Sql);
            var limit = request.Limit ?? s.DefaultLimit;
            // The limit beside a newest-first statement takes its newest rows: only the newest files hold them.
            if (shape.NewestFirst && limit > 0) shape = shape with { LatestN = limit };
            var minTs = Math.Max(request.StartTime ?? long.MinValue, shape.MinTs ?? long.MinValue);
            var maxTs = Math.Min(request.EndTime is { } e ? e - 1 : long.MaxValue, shape.MaxTs ?? long.MaxValue);
            // The inspector sets CountAll and the pruning terms only for a statement that reads one stream once.
            if (shape.CountAll is { } name && minTs == long.MinValue && maxTs == long.MaxValue
                && await _countAll.CountAsync(request, shape.Tables[0], federation, ct) is var (count, counted))
            {
                conn.Dispose();
                conn = null;
                owned = true;
                QueryMetrics.Queries.WithLabels("ok").Inc();
                return new ConstantCursor([new QueryColumn(name, "BIGINT")], [count],
                    counted with { TookMs = clock.ElapsedMilliseconds }, leave);
            }
            var bound = federation is not null && shape.Tables.Count == 1
                && await _partials.BindAsync(conn, request, shape.Tables[0], federation, shape, minTs, maxTs, ct)
                    is var (final, scanned)
                ? (Sql: final, Stats: scanned)
                : await BindStreamsAsync(conn, request, shape, federation, minTs, maxTs, maxRows, held, ct);
            if (bound is null)
            {
                Abandon();
                return null;
            }
            var (userSql, stats) = bound.Value;
            // The newline keeps the wrapper out of a trailing line comment.
            var sql = limit > 0 ? $"SELECT * FROM ({userSql.TrimEnd().TrimEnd(';')}\n) AS __q LIMIT {limit}" : userSql;
            SqlInspector.CheckRewritten(conn, sql, shape.Tables.Select(SqlInspector.ViewName).ToList());
            var cursor = new QueryCursor(conn, sql, scratch, () => { leave(); held.Release(); }, clock,
                new QueryStats(stats.ScannedRows, stats.ScannedBytes, stats.ScannedFiles, 0, federation?.Stats()),
                s.Timeout, hide, ct, _log);
            owned = true;
            if (arrow) return cursor;
            try
            {
                await cursor.StartAsync();
            }
            catch
            {
                await cursor.DisposeAsync();
                throw;
            }
            return cursor;
        }
        catch (Exception e)
        {
            if (!owned) Abandon();
            if (e is QueryException) throw;
            throw QueryErrors.Map(e, hide, timedOut: false, _log);
        }
    }

    /// <summary>Each stream the statement names bound as its view, then the statement with match_all rewritten and
    /// what the views hold; null when the files in range exceed <paramref name="maxRows"/> (a job's work).</summary>
    private async Task<(string Sql, QueryStats Stats)?> BindStreamsAsync(DuckDBConnection conn,
        QueryRequest request, SqlShape shape, FederatedQuery? federation, long minTs, long maxTs, long maxRows,
        QueryHolds held, CancellationToken ct)
    {
        var hints = new Pruning(shape.MatchAll.Select(TextTokens.Of).ToList(), shape.Equalities, shape.LatestN);
        long estimated = 0, rows = 0, bytes = 0, files = 0;
        var textFields = new List<string>();
        var matchedByIndex = false;
        var distribution = _fanOut.Plan(conn, shape, federation is not null);
        foreach (var table in shape.Tables)
        {
            var bound = await _binder.BindAsync(conn, table, new StreamKey(request.Org, table.Type, table.Name), minTs,
                maxTs, hints, distribution, maxRows - estimated, held,
                federation is null ? null : new Federated(federation, shape), ct);
            if (bound is null) continue;
            estimated += bound.Value.Estimated;
            if (estimated > maxRows) return null;
            rows += bound.Value.Rows;
            bytes += bound.Value.Bytes;
            files += bound.Value.Files;
            if (textFields.Count == 0) textFields.AddRange(bound.Value.TextFields);
            matchedByIndex = bound.Value.MatchedByIndex;
        }
        // Every row the view holds is one the index found for the WHERE clause's match_all terms: they hold.
        var sql = MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, textFields,
            matchedByIndex ? shape.MatchAllConjunctAt : []);
        return (sql, new QueryStats(rows, bytes, files, 0));
    }

    public static string DuckType(string type) => type switch
    {
        "int64" => "BIGINT",
        "float64" => "DOUBLE",
        "bool" => "BOOLEAN",
        _ => "VARCHAR",
    };


    internal static void Exec(DuckDBConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    internal static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
