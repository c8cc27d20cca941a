using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Federation;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Runs user SQL on the org's DuckDB instance (see <see cref="OrgEngines"/>). Each stream the SQL names becomes
/// a TEMP view over its pruned Parquet files UNION ALL its acknowledged, unflushed records, typed by the
/// stream's schema; then the user's single SELECT runs in streaming mode.
/// </summary>
public sealed class QueryService(
    LiveSettings<QuerySettings> settings,
    StreamMetaStore meta,
    FileIndex fileIndex,
    IGrainFactory grains,
    ObjectFiles files,
    IndexPruner pruner,
    OrgEngines engines,
    IStreamCatalog catalog,
    LiveSettings<IngestSettings> ingest,
    QuerierSilos? queriers = null,
    Federator? federator = null,
    Microsoft.Extensions.Logging.ILogger<QueryService>? log = null) : IQueryService
{
    private SemaphoreSlim? _slots;
    private int _slotCount;

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
        var s = settings.Current;
        var slots = nested ? new SemaphoreSlim(1, 1) : Slots(s.MaxConcurrent);
        if (!await slots.WaitAsync(0, ct))
        {
            QueryMetrics.Queries.WithLabels("too_many").Inc();
            throw new QueryException(QueryErrorKind.Busy, "too_many_queries", $"{s.MaxConcurrent} queries are running (querier.max_concurrent); retry shortly");
        }
        QueryMetrics.Running.Inc();
        var clock = Stopwatch.StartNew();
        var scratch = new DirectoryInfo(Path.Combine(engines.ScratchRoot(request.Org), "q-" + Guid.NewGuid().ToString("N")));
        string[] hide = [files.OrgDirectory(request.Org), scratch.FullName];
        var held = new Held(files);
        DuckDBConnection? conn = null;
        // Everything the query took, given back when it ends before a cursor owns it.
        void Abandon()
        {
            conn?.Dispose();
            conn = null;
            TryDelete(scratch.FullName);
            slots.Release();
            held.Release();
            QueryMetrics.Running.Dec();
        }
        try
        {
            var federation = federator is null ? null : await federator.PlanAsync(request, ct);
            if (federation is null && ClusterTargets.AnyRemote(request.Clusters))
                throw new QueryException(QueryErrorKind.Invalid, "invalid_clusters", "this node does not federate queries");
            conn = engines.Connect(request.Org);
            var shape = SqlInspector.Inspect(conn, request.Sql);
            var minTs = Math.Max(request.StartTime ?? long.MinValue, shape.MinTs ?? long.MinValue);
            var maxTs = Math.Min(request.EndTime is { } e ? e - 1 : long.MaxValue, shape.MaxTs ?? long.MaxValue);
            // The inspector sets CountAll and the pruning terms only for a statement that reads one stream once.
            if (shape.CountAll is { } name && minTs == long.MinValue && maxTs == long.MaxValue
                && await CountAllAsync(request, shape.Tables[0], federation, ct) is var (count, counted))
            {
                conn.Dispose();
                conn = null;
                QueryMetrics.Queries.WithLabels("ok").Inc();
                return new ConstantCursor([new QueryColumn(name, "BIGINT")], [count],
                    counted with { TookMs = clock.ElapsedMilliseconds },
                    () => { slots.Release(); QueryMetrics.Running.Dec(); });
            }
            string? userSql = null;
            long rows = 0, bytes = 0, fileCount = 0;
            if (federation is not null && shape.Tables.Count == 1
                && await BindPartialsAsync(conn, request, shape.Tables[0], federation, shape, minTs, maxTs, ct)
                    is var (final, scanned))
                (userSql, rows, bytes, fileCount) = (final, scanned.ScannedRows, scanned.ScannedBytes,
                    scanned.ScannedFiles);
            else
            {
                var hints = new Pruning(shape.MatchAll.Select(TextTokens.Of).ToList(), shape.Equalities, shape.LatestN);
                long estimated = 0;
                var textFields = new List<string>();
                var matchedByIndex = false;
                var distribution = Distribute(conn, shape, federation is not null);
                foreach (var table in shape.Tables)
                {
                    var bound = await BindAsync(conn, table, new StreamKey(request.Org, table.Type, table.Name), minTs,
                        maxTs, hints, distribution, maxRows - estimated, held,
                        federation is null ? null : new Federated(federation, shape), ct);
                    if (bound is null) continue;
                    estimated += bound.Value.Estimated;
                    if (estimated > maxRows) break;
                    rows += bound.Value.Rows;
                    bytes += bound.Value.Bytes;
                    fileCount += bound.Value.Files;
                    if (textFields.Count == 0) textFields.AddRange(bound.Value.TextFields);
                    matchedByIndex = bound.Value.MatchedByIndex;
                }

                if (estimated > maxRows)
                {
                    Abandon();
                    return null;
                }

                // Every row the view holds is one the index found for the WHERE clause's match_all terms: they hold.
                userSql = MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, textFields,
                    matchedByIndex ? shape.MatchAllConjunctAt : []);
            }
            var limit = request.Limit ?? s.DefaultLimit;
            // The newline keeps the wrapper out of a trailing line comment.
            var sql = limit > 0 ? $"SELECT * FROM ({userSql.TrimEnd().TrimEnd(';')}\n) AS __q LIMIT {limit}" : userSql;
            SqlInspector.CheckRewritten(conn, sql, shape.Tables.Select(SqlInspector.ViewName).ToList());
            var cursor = new QueryCursor(conn, sql, scratch, () => { slots.Release(); held.Release(); }, clock,
                new QueryStats(rows, bytes, fileCount, 0, federation?.Stats()), s.Timeout, hide, ct, log);
            conn = null; // owned by the cursor now: disposing it frees the slot, the connection and the scratch files
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
        catch (Exception e) when (conn is not null || e is not QueryException)
        {
            Abandon();
            if (e is QueryException) throw;
            throw QueryErrors.Map(e, hide, timedOut: false, log);
        }
    }

    /// <summary>
    /// Single-stream queries go distributed with at least two querier silos (the spec's threshold); anything
    /// else, or fewer queriers, runs here with no network hop.
    /// </summary>
    /// <param name="federated">The view also tags and unions remote rows: shard chunks are copied into tables, never
    /// scanned in place (a one-pass Arrow view under that wrapper is not a shape proven safe).</param>
    private Distribution? Distribute(DuckDBConnection conn, SqlShape shape, bool federated)
    {
        if (queriers is null || shape.Tables.Count != 1) return null;
        var count = queriers.Active().Count;
        if (count < 2) return null;
        var view = SqlInspector.ViewName(shape.Tables[0]);
        // The newest n rows overall are among each shard's newest n.
        var latest = shape.LatestN is { } n ? $" ORDER BY _timestamp DESC LIMIT {n}" : "";
        // Newest-n binding reads the view twice (its _timestamp floor, then the statement).
        var singlePass = shape.LatestN is null && shape.ReadsStreamOnce && !federated;
        // Shards run the statement's filter as the coordinator will (match_all dropped where the index answered it),
        // so they ship exactly the columns the coordinator reads: DuckDB maps the columns of a one-pass Arrow view
        // by position once it pushes a projection into it, so a shipped column the statement never names would
        // shift the others.
        return new Distribution(count, (fields, matchedByIndex) =>
            ScanPushdown.ShardSql(conn, MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, TextFields(fields),
                matchedByIndex ? shape.MatchAllConjunctAt : []), view, fields) + latest, singlePass);
    }

    private SemaphoreSlim Slots(int count)
    {
        if (_slots is null || _slotCount != count)
        {
            _slots = new SemaphoreSlim(count, count);
            _slotCount = count;
        }
        return _slots;
    }

    /// <param name="Estimated">FileMeta rows in the time range (before the index prunes), for the auto-async threshold.</param>
    /// <param name="MatchedByIndex">The statement has match_all terms and the view holds only rows the index found for them.</param>
    private readonly record struct Bound(long Rows, long Bytes, long Files, long Estimated, IReadOnlyList<string> TextFields, bool MatchedByIndex);

    /// <summary><c>SELECT count(*) FROM stream</c> from the catalog's record count (files + buffer, no scan), plus,
    /// over clusters, each remote's count from its own; null when the stream is unknown here.</summary>
    private async Task<(long Count, QueryStats Stats)?> CountAllAsync(QueryRequest request, TableRef table,
        FederatedQuery? federation, CancellationToken ct)
    {
        var key = new StreamKey(request.Org, table.Type, table.Name);
        if (await catalog.GetAsync(key, ct) is not { } info) return null;
        if (federation is null)
            return (info.Records, new QueryStats(info.Records, info.CompressedBytes, info.Files, 0));
        var (count, files, fileBytes) = federation.IncludeLocal ? (info.Records, info.Files, info.CompressedBytes)
            : (0L, 0L, 0L);
        var scan = RemoteRequest(table, long.MinValue, long.MaxValue);
        scan.Sql = $"SELECT count(*) FROM {DuckSql.Identifier(table.Type)}.{DuckSql.Identifier(table.Name)}";
        var (remote, bytes) = await federation.CountAsync(scan, ct);
        var total = count + remote;
        return (total, new QueryStats(total, fileBytes + bytes, files, 0, federation.Stats()));
    }

    /// <summary>What a single-stream query lets the binder skip: files without its words or ids, or older than its newest n.</summary>
    private sealed record Pruning(IReadOnlyList<List<string>> MatchAll, IReadOnlyList<(string Column, string Value)> Equalities, long? LatestN);

    /// <summary>A federated query and the statement's shape, for the remote clusters' part of each view.</summary>
    private sealed record Federated(FederatedQuery Query, SqlShape Shape);

    /// <param name="rowBudget">Past this many FileMeta rows the query becomes a job: nothing is bound or scanned.</param>
    /// <param name="federated">Also the remote clusters' rows of the stream, and a <c>_cluster</c> column.</param>
    private async Task<Bound?> BindAsync(DuckDBConnection conn, TableRef table, StreamKey key, long minTs, long maxTs,
        Pruning hints, Distribution? distribution, long rowBudget, Held held, Federated? federated,
        CancellationToken ct)
    {
        // A name that is no stream of the org never reaches the engine, which would resolve it in its own catalog.
        if (await meta.GetAsync(key, ct) is null)
            throw new QueryException(QueryErrorKind.Forbidden, "forbidden",
                $"table '{SqlInspector.ViewName(table)}' is not a stream of this org");
        var grain = grains.GetGrain<IStreamGrain>(key.GrainKey);

        long rows = 0, bytes = 0, fileCount = 0;
        // The buffer first, then the files: a flush committing in between shows up in both, and the seq
        // boundary drops the file's copy.
        // One call gives the buffered batches, their first seq and the live schema (loaded from the stored one).
        var (buffered, fromSeq, fields) = await grain.GetBuffered(minTs, maxTs);
        // The remote clusters scan while this one binds its part; cancelled if it gives up first.
        await using var remote = federated is null ? null
            : StartRemotes(conn, federated, table, fields, minTs, maxTs, ct);
        IReadOnlyList<FileMeta> candidates = (await fileIndex.FilesAsync(key, minTs, maxTs, ct))
            .Where(f => f.WalSeqEnd < fromSeq).ToList();
        if (federated is { Query.IncludeLocal: false })
        {
            buffered = [];
            candidates = [];
        }
        if (hints.LatestN is { } n)
            candidates = Newest(candidates, n, buffered.Sum(b => (long)b.Count), buffered.Length > 0 ? buffered.Min(b => b.MinTimestamp) : long.MaxValue);
        var estimated = candidates.Sum(f => f.Rows);
        if (estimated > rowBudget) return new Bound(0, 0, 0, estimated, [], false);
        var scan = new List<ScanFile>();
        var textFields = TextFields(fields);
        // Remote rows hold for the match_all terms when each remote applied the WHERE clause (with its own index).
        var matchedByIndex = hints.MatchAll.Count > 0 && buffered.Length == 0
                             && (remote?.Filtered ?? true);
        foreach (var f in candidates)
        {
            // With row numbers, the index found the matching rows: only those rows (and their row groups) are read.
            var match = await pruner.MatchAsync(f, hints.MatchAll, hints.Equalities, ct);
            if (!match.May)
            {
                QueryMetrics.PrunedFiles.Inc();
                continue;
            }
            // The rows are the answer only if the file indexed exactly the fields the statement tests.
            if (match.Rows is null || !match.TextFields.ToHashSet().SetEquals(textFields)) matchedByIndex = false;
            scan.Add(new ScanFile(f.ObjectKey, match.Rows));
            rows += match.Rows?.Length ?? f.Rows;
            bytes += f.CompressedBytes;
            fileCount++;
        }
        var view = SqlInspector.ViewName(table);
        var parts = distribution is not null && scan.Count > 0
            ? await ScanShardsAsync(conn, distribution, view, key.Org, fields, scan, minTs, maxTs, matchedByIndex, held, ct)
            : StreamView.FileParts(await files.PinAsync(scan, held.Pinned, ct));

        if (buffered.Length > 0)
        {
            // Copied into a TEMP table: a view over their Arrow batches would be one-pass, and DuckDB reads such a
            // view's columns by position once it pushes a projection into it.
            var set = new ColumnSet(buffered, fields.Select(f => (f.Name, FieldKinds.Parse(f.Type))).ToList());
            var buffer = $"__ms_buffer_{view}";
            ArrowImport.Append(conn, buffer, new SortedBatches(set, [.. Enumerable.Range(0, set.Rows)], 0, set.Rows, ParquetEncoder.RowGroupRows), create: true);
            rows += set.Rows;
            bytes += buffered.Sum(b => (long)b.Payload.Length);
            parts.Add($"SELECT * FROM {DuckSql.Identifier(buffer)}");
        }
        if (federated is not null)
        {
            parts = parts.Select(p => FederatedQuery.Tag(p, ClusterTargets.Local)).ToList();
            var loaded = federated.Query.Load(conn, await remote!.Received, tag: true);
            parts.AddRange(loaded.Parts);
            rows += loaded.Rows;
            bytes += loaded.Bytes;
            fields = [.. fields, (ClusterTargets.Column, "utf8")];
        }

        var source = StreamView.Source(fields, parts);
        var range = StreamView.Range(minTs, maxTs);
        Exec(conn, StreamView.Create(view, source, range));
        if (hints.LatestN is { } latest && rows > latest)
        {
            // Newest n rows: find the n-th newest _timestamp from that column alone, then bound the view by it so
            // the scan of every other column skips all row groups older than it (files are sorted by _timestamp).
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT min(_timestamp) FROM (SELECT _timestamp FROM {DuckSql.Identifier(view)} ORDER BY _timestamp DESC LIMIT {latest})";
            if (cmd.ExecuteScalar() is long floor)
            {
                range.Add($"_timestamp >= {floor}");
                Exec(conn, StreamView.Create(view, source, range));
            }
        }
        return new Bound(rows, bytes, fileCount, estimated, textFields, matchedByIndex);
    }

    /// <summary>
    /// The stream's rows on the remote clusters: the columns the statement reads (with match_all rewritten, so
    /// the text fields it tests are sent) where its WHERE clause holds (as written, so each remote prunes by its own
    /// index), in the time range, the newest n when the statement wants only those.
    /// </summary>
    private FederatedQuery.RemoteScan StartRemotes(DuckDBConnection conn,
        Federated federated, TableRef table, (string Name, string Type)[] fields, long minTs, long maxTs,
        CancellationToken ct)
    {
        var shape = federated.Shape;
        var view = SqlInspector.ViewName(table);
        var (columns, filter) = ScanPushdown.RemotePlan(conn,
            MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, TextFields(fields), []), shape.Sql, view, fields);
        var request = RemoteRequest(table, minTs, maxTs);
        request.Filter = filter ?? "";
        request.Newest = shape.LatestN ?? 0;
        if (columns is not null) request.Columns.AddRange(columns);
        return federated.Query.Start(request, (long)settings.Current.MemoryLimitMb << 20, filter is not null, ct);
    }

    private static Rpc.V1.StreamScanRequest RemoteRequest(TableRef table, long minTs, long maxTs)
    {
        var request = new Rpc.V1.StreamScanRequest { Stream = table.Name, StreamType = table.Type };
        if (minTs > long.MinValue) request.StartTime = minTs;
        if (maxTs < long.MaxValue) request.EndTime = maxTs + 1;
        return request;
    }

    /// <summary>
    /// A federated aggregate over one stream split into partials (<see cref="PartialAggregation"/>): this cluster's
    /// partial runs as a query of its own (its pruning, index and buffer), each remote's as its Scan's statement,
    /// and the stream's view becomes the union of their rows (one per group and cluster, and an empty cluster's
    /// row for a statement without GROUP BY), over which the returned final statement runs. Null when the
    /// statement does not split: it is then bound row by row.
    /// </summary>
    private async Task<(string Final, QueryStats Scanned)?> BindPartialsAsync(DuckDBConnection conn,
        QueryRequest request, TableRef table, FederatedQuery federation, SqlShape shape, long minTs, long maxTs,
        CancellationToken ct)
    {
        var key = new StreamKey(request.Org, table.Type, table.Name);
        if (await meta.GetAsync(key, ct) is null)
            throw new QueryException(QueryErrorKind.Forbidden, "forbidden",
                $"table '{SqlInspector.ViewName(table)}' is not a stream of this org");
        var view = SqlInspector.ViewName(table);
        // The live schema (fields of unflushed records included), no records: an empty time range.
        var live = await grains.GetGrain<IStreamGrain>(key.GrainKey).GetBuffered(long.MaxValue, long.MinValue);
        (string Name, string Type)[] fields = [.. live.Fields, (ClusterTargets.Column, "utf8")];
        var schema = string.Join(",", fields.Select(f => $"{f.Name}:{f.Type}"));
        // A known statement (a dashboard's, a benchmark's) needs no typed view to be planned.
        if (!PartialAggregation.Known(shape.Sql, schema, out var plan))
        {
            Exec(conn, StreamView.Create(view, StreamView.Source(fields, []), []));
            plan = PartialAggregation.TryPlan(conn, shape.Sql, view, schema);
        }
        if (plan is null) return null;
        List<string> parts = [plan.Empty];
        var remoteRequests = federation.Healthy.ToDictionary(r => r.Name, r =>
        {
            var scan = RemoteRequest(table, minTs, maxTs);
            scan.Sql = plan.Partial(conn, r.Name);
            return scan;
        });
        // This cluster's partial runs on a connection of its own while the remotes answer; its rows are few (one
        // per group) and join the view once both are done (this connection serves the remotes' appends).
        var local = federation.IncludeLocal
            ? LocalPartialAsync(request with
            {
                Sql = plan.Partial(conn, ClusterTargets.Local), Limit = 0, Clusters = null,
            }, ct)
            : Task.FromResult<(List<ArrowChunk> Chunks, QueryStats Stats)>(([], new QueryStats(0, 0, 0, 0)));
        var remotes = federation.ReceiveAsync(remoteRequests, (long)settings.Current.MemoryLimitMb << 20, ct);
        await Task.WhenAll(local, remotes);
        var (chunks, stats) = await local;
        parts.AddRange(federation.Load(conn, [new(ClusterTargets.Local, chunks)], tag: false).Parts);
        var remote = federation.Load(conn, await remotes, tag: false);
        parts.AddRange(remote.Parts);
        Exec(conn, $"CREATE OR REPLACE TEMP VIEW {DuckSql.Identifier(view)} AS " +
                   string.Join(" UNION ALL BY NAME ", parts));
        return (plan.Final, stats with
        {
            ScannedRows = stats.ScannedRows + remote.Rows, ScannedBytes = stats.ScannedBytes + remote.Bytes,
        });
    }

    /// <summary>This cluster's partial statement as a query of its own (it holds no slot: its caller does).</summary>
    private async Task<(List<ArrowChunk> Chunks, QueryStats Stats)> LocalPartialAsync(QueryRequest partial,
        CancellationToken ct)
    {
        var chunks = new List<ArrowChunk>();
        await using var cursor = (IArrowCursor)(await OpenCoreAsync(partial, long.MaxValue, arrow: true, ct,
            nested: true))!;
        await foreach (var chunk in cursor.ReadArrowAsync(ct)) chunks.Add(chunk);
        return (chunks, cursor.Stats);
    }

    /// <summary>What a query holds until its cursor is gone (after its connection): cached files it reads, Arrow streams its views scan.</summary>
    private sealed class Held(ObjectFiles files)
    {
        public List<string> Pinned { get; } = [];
        public List<IDisposable> ArrowViews { get; } = [];

        public void Release()
        {
            foreach (var v in ArrowViews) v.Dispose();
            files.Unpin(Pinned);
        }
    }

    /// <summary>
    /// A distributed single-stream query: the querier count, the SELECT each shard runs (projection and filter of
    /// the statement, given the stream's fields and whether the index answered its match_all terms), and whether the statement reads its stream only once (then the
    /// shards' Arrow chunks are scanned in place instead of copied into tables).
    /// </summary>
    private sealed record Distribution(int Queriers, Func<IReadOnlyList<(string Name, string Type)>, bool, string> ShardSql, bool SinglePass);

    /// <summary>
    /// Files sharded by hash(object_key) % queriers, each shard scanned by its ScanGrain on a querier silo and
    /// its Arrow chunks bound here; a shard whose querier fails is read here instead (the query never hangs on a
    /// dead querier and never loses its rows).
    /// </summary>
    private async Task<List<string>> ScanShardsAsync(DuckDBConnection conn, Distribution distribution, string view, string org,
        (string Name, string Type)[] fields, List<ScanFile> scan, long minTs, long maxTs, bool matchedByIndex, Held held, CancellationToken ct)
    {
        var sql = distribution.ShardSql(fields, matchedByIndex);
        var loading = new SemaphoreSlim(1); // one DuckDB connection: chunks load one at a time
        // Shipped chunks are held here until the statement ends: they count against the query's memory limit.
        var budget = (long)settings.Current.MemoryLimitMb << 20;
        long shipped = 0;
        var shards = scan.GroupBy(f => (int)(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(f.ObjectKey)) % (ulong)distribution.Queriers));
        var results = await Task.WhenAll(shards.Select(async shard =>
        {
            var table = $"__ms_shard_{shard.Key}";
            var parts = new List<string>();
            var request = new ScanRequest(org, view, fields, shard.ToArray(), minTs, maxTs, sql);
            try
            {
                var scanner = grains.GetGrain<IScanGrain>($"{distribution.Queriers}:{shard.Key}");
                await foreach (var chunk in scanner.Scan(request, ct).WithBatchSize(1).WithCancellation(ct))
                {
                    if (Interlocked.Add(ref shipped, chunk.ArrowIpc.Length) > budget)
                        throw new QueryException(QueryErrorKind.TooLarge, "memory_limit",
                            $"the shards' rows exceed {budget >> 20} MiB (querier.memory_limit_mb): narrow the query");
                    await loading.WaitAsync(ct);
                    try
                    {
                        if (distribution.SinglePass)
                        {
                            var name = $"{table}_{parts.Count}_{Guid.NewGuid():N}"; // a shared catalog's view
                            held.ArrowViews.Add(ArrowImport.Register(conn, name, chunk.ArrowIpc));
                            parts.Add($"SELECT * FROM {DuckSql.Identifier(name)}");
                        }
                        else
                        {
                            ArrowImport.Append(conn, table, chunk.ArrowIpc, create: parts.Count == 0);
                            if (parts.Count == 0) parts.Add($"SELECT * FROM {DuckSql.Identifier(table)}");
                        }
                    }
                    finally
                    {
                        loading.Release();
                    }
                }
                QueryMetrics.Shards.WithLabels("remote").Inc();
                return (Parts: parts, Retry: (List<ScanFile>?)null);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not QueryException)
            {
                // What arrived of the shard is dropped (its views are never named): all its files are read here.
                await loading.WaitAsync(CancellationToken.None);
                try { Exec(conn, $"DROP TABLE IF EXISTS {DuckSql.Identifier(table)}"); } finally { loading.Release(); }
                QueryMetrics.Shards.WithLabels("local_retry").Inc();
                return (Parts: new List<string>(), Retry: shard.ToList());
            }
        }));
        var parts = results.SelectMany(r => r.Parts).ToList();
        var retry = results.Where(r => r.Retry is not null).SelectMany(r => r.Retry!).ToList();
        if (retry.Count > 0) parts.AddRange(StreamView.FileParts(await files.PinAsync(retry, held.Pinned, ct)));
        return parts;
    }

    /// <summary>
    /// For <c>ORDER BY _timestamp DESC LIMIT n</c>: files newest first until they (with the buffer) hold n rows
    /// and no further file reaches past the oldest row taken so far.
    /// </summary>
    private static IReadOnlyList<FileMeta> Newest(IReadOnlyList<FileMeta> files, long n, long bufferedRows, long bufferedMin)
    {
        var taken = new List<FileMeta>();
        var rows = bufferedRows;
        var oldest = bufferedMin;
        foreach (var f in files.OrderByDescending(f => f.MaxTs))
        {
            if (rows >= n && f.MaxTs < oldest) break;
            taken.Add(f);
            rows += f.Rows;
            oldest = Math.Min(oldest, f.MinTs);
        }
        return taken;
    }

    /// <summary>The stream's full-text fields: its text fields the sidecars index (<c>[ingester].text_fields</c>).</summary>
    private List<string> TextFields(IEnumerable<(string Name, string Type)> fields)
    {
        var patterns = ingest.Current.TextFields;
        return fields.Where(f => f.Type == "utf8" && patterns.Matches(f.Name)).Select(f => f.Name).ToList();
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
