using System.Diagnostics;
using System.Text;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
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
    IGrainFactory grains,
    ObjectFiles files,
    IndexPruner pruner,
    OrgEngines engines,
    IStreamCatalog catalog) : IQueryService
{
    private SemaphoreSlim? _slots;
    private int _slotCount;

    public async Task<IQueryCursor> OpenAsync(QueryRequest request, CancellationToken ct)
    {
        var s = settings.Current;
        var slots = Slots(s.MaxConcurrent);
        if (!await slots.WaitAsync(0, ct))
        {
            QueryMetrics.Queries.WithLabels("too_many").Inc();
            throw new QueryException(429, "too_many_queries", $"{s.MaxConcurrent} queries are running (querier.max_concurrent); retry shortly");
        }
        QueryMetrics.Running.Inc();
        var clock = Stopwatch.StartNew();
        var scratch = new DirectoryInfo(Path.Combine(engines.ScratchRoot(request.Org), "q-" + Guid.NewGuid().ToString("N")));
        string[] hide = [files.OrgDirectory(request.Org), scratch.FullName];
        var pinned = new List<string>(); // cached remote files this query reads
        DuckDBConnection? conn = null;
        try
        {
            conn = engines.Connect(request.Org);
            var shape = SqlInspector.Inspect(conn, request.Sql);
            var minTs = Math.Max(request.StartTime ?? long.MinValue, shape.MinTs ?? long.MinValue);
            var maxTs = Math.Min(request.EndTime is { } e ? e - 1 : long.MaxValue, shape.MaxTs ?? long.MaxValue);
            var single = shape.Tables.Count == 1;
            if (single && shape.CountAll is { } name && minTs == long.MinValue && maxTs == long.MaxValue
                && await CountAllAsync(new StreamKey(request.Org, shape.Tables[0].Type, shape.Tables[0].Name), ct) is var (count, countedFiles, fileBytes))
            {
                conn.Dispose();
                conn = null;
                QueryMetrics.Queries.WithLabels("ok").Inc();
                return new ConstantCursor([new QueryColumn(name, "BIGINT")], [count], new QueryStats(count, fileBytes, countedFiles, clock.ElapsedMilliseconds),
                    () => { slots.Release(); QueryMetrics.Running.Dec(); });
            }
            var hints = new Pruning(
                single ? shape.MatchAll.Select(IndexPruner.Tokens).ToList() : [],
                single ? shape.Equalities : [],
                single ? shape.LatestN : null);
            long rows = 0, bytes = 0, fileCount = 0;
            var textFields = new List<string>();
            foreach (var table in shape.Tables)
            {
                var bound = await BindAsync(conn, table, new StreamKey(request.Org, table.Type, table.Name), minTs, maxTs, hints, scratch, pinned, ct);
                if (bound is null) continue;
                rows += bound.Value.Rows;
                bytes += bound.Value.Bytes;
                fileCount += bound.Value.Files;
                if (textFields.Count == 0) textFields.AddRange(bound.Value.TextFields);
            }

            var userSql = WithTextFields(shape.Sql, shape.MatchAllAt, textFields);
            var limit = request.Limit ?? s.DefaultLimit;
            var sql = limit > 0 ? $"SELECT * FROM ({userSql.TrimEnd().TrimEnd(';')}) AS __q LIMIT {limit}" : userSql;
            var cursor = new QueryCursor(conn, sql, scratch, () => { slots.Release(); files.Unpin(pinned); }, clock,
                new QueryStats(rows, bytes, fileCount, 0), s.Timeout, hide, ct);
            conn = null; // owned by the cursor now: disposing it frees the slot, the connection and the scratch files
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
            conn?.Dispose();
            TryDelete(scratch.FullName);
            slots.Release();
            files.Unpin(pinned);
            QueryMetrics.Running.Dec();
            if (e is QueryException) throw;
            throw QueryErrors.Map(e, hide, timedOut: false);
        }
    }

    public async Task<long> EstimateRowsAsync(QueryRequest request, CancellationToken ct)
    {
        using var conn = engines.Connect(request.Org);
        var shape = SqlInspector.Inspect(conn, request.Sql);
        var minTs = Math.Max(request.StartTime ?? long.MinValue, shape.MinTs ?? long.MinValue);
        var maxTs = Math.Min(request.EndTime is { } e ? e - 1 : long.MaxValue, shape.MaxTs ?? long.MaxValue);
        long rows = 0;
        foreach (var t in shape.Tables)
            rows += (await meta.FilesAsync(new StreamKey(request.Org, t.Type, t.Name), minTs, maxTs, ct)).Sum(f => f.Rows);
        return rows;
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

    private readonly record struct Bound(long Rows, long Bytes, long Files, IReadOnlyList<string> TextFields);

    /// <summary><c>SELECT count(*) FROM stream</c>: the catalog's record count (files + buffer, no scan); null when the stream is unknown.</summary>
    private async Task<(long Rows, long Files, long Bytes)?> CountAllAsync(StreamKey key, CancellationToken ct) =>
        await catalog.GetAsync(key, ct) is { } info ? (info.Records, info.Files, info.CompressedBytes) : null;

    /// <summary>What a single-stream query lets the binder skip: files without its words or ids, or older than its newest n.</summary>
    private sealed record Pruning(IReadOnlyList<List<string>> MatchAll, IReadOnlyList<(string Column, string Value)> Equalities, long? LatestN);

    private async Task<Bound?> BindAsync(DuckDBConnection conn, TableRef table, StreamKey key, long minTs, long maxTs,
        Pruning hints, DirectoryInfo scratch, List<string> pinned, CancellationToken ct)
    {
        // An unknown stream stays unknown (the engine reports the table): no grain is activated for it.
        if (await meta.GetAsync(key, ct) is null) return null;
        var grain = grains.GetGrain<IStreamGrain>(key.GrainKey);

        var parts = new List<string>();
        long rows = 0, bytes = 0, fileCount = 0;
        // The buffer first, then the files: a flush committing in between shows up in both, and the seq
        // boundary drops the file's copy.
        // One call gives the buffered batches, their first seq and the live schema (loaded from the stored one).
        var (buffered, fromSeq, fields) = await grain.GetBuffered(minTs, maxTs);
        IReadOnlyList<FileMeta> candidates = (await meta.FilesAsync(key, minTs, maxTs, ct)).Where(f => f.WalSeqEnd < fromSeq).ToList();
        if (hints.LatestN is { } n)
            candidates = Newest(candidates, n, buffered.Sum(b => (long)b.Count), buffered.Length > 0 ? buffered.Min(b => b.MinTimestamp) : long.MaxValue);
        var paths = new List<string>();
        foreach (var f in candidates)
        {
            var (may, timestamps) = await pruner.MatchAsync(f, hints.MatchAll, hints.Equalities, ct);
            if (!may)
            {
                QueryMetrics.PrunedFiles.Inc();
                continue;
            }
            if (timestamps is not null)
            {
                // The index found the matching rows: scan only the row groups holding their timestamps (the range
                // is what the Parquet scan prunes row groups by; the list keeps only those rows).
                var narrowedPath = await files.PathAsync(f.ObjectKey, ct);
                pinned.Add(narrowedPath);
                parts.Add($"SELECT * FROM read_parquet('{Escape(narrowedPath)}') " +
                          $"WHERE _timestamp BETWEEN {timestamps[0]} AND {timestamps[^1]} AND _timestamp IN ({string.Join(", ", timestamps)})");
                rows += f.Rows;
                bytes += f.CompressedBytes;
                fileCount++;
                continue;
            }
            paths.Add(await files.PathAsync(f.ObjectKey, ct));
            pinned.Add(paths[^1]);
            rows += f.Rows;
            bytes += f.CompressedBytes;
            fileCount++;
        }
        if (paths.Count > 0)
            parts.Add($"SELECT * FROM read_parquet([{string.Join(", ", paths.Select(p => $"'{Escape(p)}'"))}], union_by_name = true)");

        if (buffered.Length > 0)
        {
            scratch.Create();
            var path = Path.Combine(scratch.FullName, $"{key.Type}-{key.Stream}.ndjson");
            await using (var fs = File.Create(path))
                foreach (var b in buffered)
                {
                    await fs.WriteAsync(b.Records, ct);
                    rows += b.Count;
                    bytes += b.Records.Length;
                }
            var columns = string.Join(", ", fields.Select(f => $"'{Escape(f.Name)}': '{DuckType(f.Type)}'"));
            parts.Add($"SELECT * FROM read_ndjson('{Escape(path)}', columns = {{{columns}}}, format = 'newline_delimited')");
        }

        // Every schema field with its current type, whatever each part has: old files may lack a field or hold
        // it in a narrower type. The typed empty part makes every column exist in the union.
        parts.Insert(0, $"SELECT {string.Join(", ", fields.Select(f => $"CAST(NULL AS {DuckType(f.Type)}) AS {Quote(f.Name)}"))} WHERE false");
        var select = string.Join(", ", fields.Select(f => $"CAST({Quote(f.Name)} AS {DuckType(f.Type)}) AS {Quote(f.Name)}"));
        var source = $"SELECT {select} FROM ({string.Join(" UNION ALL BY NAME ", parts)})";
        var range = new List<string>();
        if (minTs > long.MinValue) range.Add($"_timestamp >= {minTs}");
        if (maxTs < long.MaxValue) range.Add($"_timestamp <= {maxTs}");
        var view = Quote(SqlInspector.ViewName(table));
        var where = range.Count > 0 ? " WHERE " + string.Join(" AND ", range) : "";
        Exec(conn, $"CREATE TEMP VIEW {view} AS SELECT * FROM ({source}){where}");
        if (hints.LatestN is { } latest && rows > latest)
        {
            // Newest n rows: find the n-th newest _timestamp from that column alone, then bound the view by it so
            // the scan of every other column skips all row groups older than it (files are sorted by _timestamp).
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT min(_timestamp) FROM (SELECT _timestamp FROM {view} ORDER BY _timestamp DESC LIMIT {latest})";
            if (cmd.ExecuteScalar() is long floor)
            {
                range.Add($"_timestamp >= {floor}");
                Exec(conn, $"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM ({source}) WHERE {string.Join(" AND ", range)}");
            }
        }

        var text = fields.Where(f => f.Type == "utf8" && IsTextField(f.Name)).Select(f => f.Name).ToList();
        return new Bound(rows, bytes, fileCount, text);
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

    private static bool IsTextField(string name) =>
        name is "log" or "message" or "msg" or "content" or "data" or "body" || name.StartsWith("error_", StringComparison.Ordinal);

    /// <summary>
    /// <c>match_all('q')</c> is rewritten in place (at the offsets the parser reported; macros cannot name
    /// columns) into a test over the stream's full-text fields: every token of q must occur as a whole token,
    /// case-insensitively. With q a literal, each token becomes a constant pattern (compiled once); otherwise the
    /// <c>__ms_match_all</c> macro does the same per row.
    /// </summary>
    private static string WithTextFields(string sql, IReadOnlyList<int> at, List<string> textFields)
    {
        if (at.Count == 0) return sql;
        var text = textFields.Count == 0 ? "CAST(NULL AS VARCHAR)" : $"concat_ws(chr(10), {string.Join(", ", textFields.Select(Quote))})";
        var fields = textFields.Count == 0 ? ["CAST(NULL AS VARCHAR)"] : textFields.Select(Quote).ToList();
        var bytes = Encoding.UTF8.GetBytes(sql).ToList();
        foreach (var offset in at.OrderDescending())
        {
            var paren = bytes.IndexOf((byte)'(', offset);
            if (paren < 0) continue;
            if (LiteralCall(bytes, paren) is var (literal, end) && literal is not null)
            {
                var tokens = IndexPruner.Tokens(literal);
                // Each token in some field: no per-row concatenation, and ILIKE rules most rows out before the regex.
                var test = tokens.Count == 0 ? "false" : "(" + string.Join(" AND ", tokens.Select(t => "(" + string.Join(" OR ", fields.Select(f =>
                    $@"({f} ILIKE '%{t}%' AND regexp_matches({f}, '(?i)(^|[^\p{{L}}\p{{N}}]){t}([^\p{{L}}\p{{N}}]|$)'))")) + ")")) + ")";
                bytes.RemoveRange(offset, end + 1 - offset);
                bytes.InsertRange(offset, Encoding.UTF8.GetBytes(test));
            }
            else
            {
                bytes.RemoveRange(offset, paren + 1 - offset);
                bytes.InsertRange(offset, Encoding.UTF8.GetBytes($"__ms_match_all({text}, "));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>At "(": a single string literal argument and the offset of the closing ")".</summary>
    private static (string? Literal, int End) LiteralCall(List<byte> sql, int paren)
    {
        var i = paren + 1;
        while (i < sql.Count && sql[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') i++;
        if (i >= sql.Count || sql[i] != '\'') return (null, 0);
        var literal = new List<byte>();
        for (i++; i < sql.Count; i++)
        {
            if (sql[i] != '\'') { literal.Add(sql[i]); continue; }
            if (i + 1 < sql.Count && sql[i + 1] == '\'') { literal.Add((byte)'\''); i++; continue; }
            break;
        }
        for (i++; i < sql.Count && sql[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r'; i++) { }
        return i < sql.Count && sql[i] == ')' ? (Encoding.UTF8.GetString(literal.ToArray()), i) : (null, 0);
    }

    public static string DuckType(string type) => type switch
    {
        "int64" => "BIGINT",
        "float64" => "DOUBLE",
        "bool" => "BOOLEAN",
        _ => "VARCHAR",
    };

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private static string Escape(string literal) => literal.Replace("'", "''");

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
