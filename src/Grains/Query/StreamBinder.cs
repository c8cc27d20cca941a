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

/// <summary>What a single-stream query lets the binder skip: files without its words or ids, or older than its
/// newest n.</summary>
internal sealed record Pruning(IReadOnlyList<List<string>> MatchAll,
    IReadOnlyList<(string Column, string Value)> Equalities, long? LatestN);

/// <summary>A federated query and the statement's shape, for the remote clusters' part of each view.</summary>
internal sealed record Federated(FederatedQuery Query, SqlShape Shape);

/// <param name="Estimated">FileMeta rows in the time range (before the index prunes), for the auto-async
/// threshold.</param>
/// <param name="MatchedByIndex">The statement has match_all terms and the view holds only rows the index found for
/// them.</param>
internal readonly record struct Bound(long Rows, long Bytes, long Files, long Estimated,
    IReadOnlyList<string> TextFields, bool MatchedByIndex);

/// <summary>
/// Binds one stream the SQL names: a TEMP view over its files pruned by time, index and newest-n (read here or by
/// the querier shards), UNION ALL its acknowledged, unflushed records, and over clusters the remote clusters' rows,
/// typed by the stream's schema.
/// </summary>
internal sealed class StreamBinder(LiveSettings<QuerySettings> settings, StreamMetaStore meta, FileIndex fileIndex,
    IGrainFactory grains, ObjectFiles files, IndexPruner pruner, ShardFanOut fanOut, FullTextFields text)
{
    /// <summary>Refuses a name that is no stream of the org: it never reaches the engine, which would resolve it in
    /// its own catalog.</summary>
    public async Task RequireStreamAsync(TableRef table, StreamKey key, CancellationToken ct)
    {
        if (await meta.GetAsync(key, ct) is null)
            throw new QueryException(QueryErrorKind.Forbidden, "forbidden",
                $"table '{SqlInspector.ViewName(table)}' is not a stream of this org");
    }

    /// <param name="rowBudget">Past this many FileMeta rows the query becomes a job: nothing is bound or scanned.
    /// </param>
    /// <param name="federated">Also the remote clusters' rows of the stream, and a <c>_cluster</c> column.</param>
    public async Task<Bound?> BindAsync(DuckDBConnection conn, TableRef table, StreamKey key, long minTs, long maxTs,
        Pruning hints, Distribution? distribution, long rowBudget, QueryHolds held, Federated? federated,
        CancellationToken ct)
    {
        await RequireStreamAsync(table, key, ct);
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
            candidates = Newest(candidates, n, buffered.Sum(b => (long)b.Count),
                buffered.Length > 0 ? buffered.Min(b => b.MinTimestamp) : long.MaxValue);
        var estimated = candidates.Sum(f => f.Rows);
        if (estimated > rowBudget) return new Bound(0, 0, 0, estimated, [], false);
        var scan = new List<ScanFile>();
        var textFields = text.Of(fields);
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
            ? await fanOut.ScanAsync(conn, distribution, view, key.Org, fields, scan, minTs, maxTs, matchedByIndex,
                held, ct)
            : StreamView.FileParts(await files.PinAsync(scan, held.Pinned, ct));

        if (buffered.Length > 0)
        {
            // Copied into a TEMP table: a view over their Arrow batches would be one-pass, and DuckDB reads such a
            // view's columns by position once it pushes a projection into it.
            var set = new ColumnSet(buffered, fields.Select(f => (f.Name, FieldKinds.Parse(f.Type))).ToList());
            var buffer = $"__ms_buffer_{view}";
            ArrowImport.Append(conn, buffer, new SortedBatches(set, [.. Enumerable.Range(0, set.Rows)], 0, set.Rows,
                ParquetEncoder.RowGroupRows), create: true);
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
        QueryService.Exec(conn, StreamView.Create(view, source, range));
        if (hints.LatestN is { } latest && rows > latest)
        {
            // Newest n rows: find the n-th newest _timestamp from that column alone, then bound the view by it so
            // the scan of every other column skips all row groups older than it (files are sorted by _timestamp).
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT min(_timestamp) FROM (SELECT _timestamp FROM {DuckSql.Identifier(view)} " +
                              $"ORDER BY _timestamp DESC LIMIT {latest})";
            if (cmd.ExecuteScalar() is long floor)
            {
                range.Add($"_timestamp >= {floor}");
                QueryService.Exec(conn, StreamView.Create(view, source, range));
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
            MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, text.Of(fields), []), shape.Sql, view, fields);
        var request = RemoteRequest(table, minTs, maxTs);
        request.Filter = filter ?? "";
        request.Newest = shape.LatestN ?? 0;
        if (columns is not null) request.Columns.AddRange(columns);
        return federated.Query.Start(request, (long)settings.Current.MemoryLimitMb << 20, filter is not null, ct);
    }

    /// <summary>A remote cluster's scan of the stream over [minTs, maxTs].</summary>
    public static Rpc.V1.StreamScanRequest RemoteRequest(TableRef table, long minTs, long maxTs)
    {
        var request = new Rpc.V1.StreamScanRequest { Stream = table.Name, StreamType = table.Type };
        if (minTs > long.MinValue) request.StartTime = minTs;
        if (maxTs < long.MaxValue) request.EndTime = maxTs + 1;
        return request;
    }

    /// <summary>
    /// For <c>ORDER BY _timestamp DESC LIMIT n</c>: files newest first until they (with the buffer) hold n rows
    /// and no further file reaches past the oldest row taken so far.
    /// </summary>
    private static IReadOnlyList<FileMeta> Newest(IReadOnlyList<FileMeta> files, long n, long bufferedRows,
        long bufferedMin)
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
}
