using System.Diagnostics;
using System.Text;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Runs user SQL in a fresh in-memory DuckDB per query. Each stream the SQL names becomes a view over its
/// pruned Parquet files UNION ALL its acknowledged, unflushed records, typed by the stream's schema. Then the
/// engine is locked down (no file or network access outside the org's data, no extensions, settings locked)
/// before the user's statement runs.
/// </summary>
public sealed class QueryService(
    QuerySettingsSource settings,
    StreamMetaStore meta,
    IGrainFactory grains,
    ObjectFiles files,
    IndexPruner pruner) : IQueryService
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
        var scratch = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(s.TempDir), "q-" + Guid.NewGuid().ToString("N")));
        DuckDBConnection? conn = null;
        try
        {
            conn = new DuckDBConnection("DataSource=:memory:");
            conn.Open();
            Exec(conn, $"SET threads = {s.Threads}; SET memory_limit = '{s.MemoryLimitMb}MB'; SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; SET preserve_insertion_order = false");
            var shape = SqlInspector.Inspect(conn, request.Sql);
            var minTs = Math.Max(request.StartTime ?? long.MinValue, shape.MinTs ?? long.MinValue);
            var maxTs = Math.Min(request.EndTime is { } e ? e - 1 : long.MaxValue, shape.MaxTs ?? long.MaxValue);
            var matchAll = shape.MatchAll.Select(IndexPruner.Tokens).ToList();
            long rows = 0, bytes = 0, fileCount = 0;
            var textFields = new List<string>();
            foreach (var schema in SqlInspector.StreamSchemas) Exec(conn, $"CREATE SCHEMA IF NOT EXISTS {schema}");
            foreach (var table in shape.Tables)
            {
                var bound = await BindAsync(conn, new StreamKey(request.Org, table.Type, table.Name), minTs, maxTs,
                    shape.Tables.Count == 1 ? matchAll : [], shape.Tables.Count == 1 ? shape.Equalities : [], scratch.FullName, ct);
                if (bound is null) continue;
                rows += bound.Value.Rows;
                bytes += bound.Value.Bytes;
                fileCount += bound.Value.Files;
                if (textFields.Count == 0) textFields.AddRange(bound.Value.TextFields);
            }
            DefineFunctions(conn);
            // The sandbox: from here on the statement can read only this org's data and this query's scratch files.
            Exec(conn, $"SET allowed_directories = ['{Escape(files.OrgDirectory(request.Org))}', '{Escape(scratch.FullName + "/")}']; " +
                       "SET enable_external_access = false; SET lock_configuration = true");

            var userSql = WithTextFields(request.Sql, shape.MatchAllAt, textFields);
            var limit = request.Limit ?? s.DefaultLimit;
            var sql = limit > 0 ? $"SELECT * FROM ({userSql.TrimEnd().TrimEnd(';')}) AS __q LIMIT {limit}" : userSql;
            var cursor = new QueryCursor(conn, sql, scratch, slots, clock, new QueryStats(rows, bytes, fileCount, 0), s.Timeout,
                [files.OrgDirectory(request.Org), scratch.FullName], ct);
            await cursor.StartAsync();
            conn = null; // owned by the cursor now
            return cursor;
        }
        catch (Exception e)
        {
            conn?.Dispose();
            TryDelete(scratch.FullName);
            slots.Release();
            QueryMetrics.Running.Dec();
            if (e is QueryException) throw;
            throw QueryErrors.Map(e, [files.OrgDirectory(request.Org), scratch.FullName], timedOut: false);
        }
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

    private async Task<Bound?> BindAsync(DuckDBConnection conn, StreamKey key, long minTs, long maxTs,
        IReadOnlyList<List<string>> matchAll, IReadOnlyList<(string, string)> equalities, string scratch, CancellationToken ct)
    {
        var record = await meta.GetAsync(key, ct);
        if (record is null) return null; // the engine reports the unknown table
        var grain = grains.GetGrain<IStreamGrain>(key.GrainKey);
        var stats = await grain.GetBufferStats();
        var fields = stats.Fields.Length > 0 ? stats.Fields : record.Schema.Select(f => (f.Name, f.Type)).ToArray();

        var parts = new List<string>();
        long rows = 0, bytes = 0, fileCount = 0;
        var paths = new List<string>();
        foreach (var f in await meta.FilesAsync(key, minTs, maxTs, ct))
        {
            if (!await pruner.MayMatchAsync(f, matchAll, equalities, ct))
            {
                QueryMetrics.PrunedFiles.Inc();
                continue;
            }
            paths.Add(await files.PathAsync(f.ObjectKey, ct));
            rows += f.Rows;
            bytes += f.CompressedBytes;
            fileCount++;
        }
        if (paths.Count > 0)
            parts.Add($"SELECT * FROM read_parquet([{string.Join(", ", paths.Select(p => $"'{Escape(p)}'"))}], union_by_name = true)");

        var buffered = await grain.GetBuffered(minTs, maxTs);
        if (buffered.Length > 0)
        {
            var path = Path.Combine(scratch, $"{key.Type}-{key.Stream}.ndjson");
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
        var where = range.Count > 0 ? " WHERE " + string.Join(" AND ", range) : "";
        Exec(conn, $"CREATE VIEW {key.Type}.{Quote(key.Stream)} AS SELECT * FROM ({source}){where}");
        if (key.Type == "logs") Exec(conn, $"CREATE VIEW main.{Quote(key.Stream)} AS SELECT * FROM logs.{Quote(key.Stream)}");

        var text = fields.Where(f => f.Type == "utf8" && IsTextField(f.Name)).Select(f => f.Name).ToList();
        return new Bound(rows, bytes, fileCount, text);
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
        var bytes = Encoding.UTF8.GetBytes(sql).ToList();
        foreach (var offset in at.OrderDescending())
        {
            var paren = bytes.IndexOf((byte)'(', offset);
            if (paren < 0) continue;
            if (LiteralCall(bytes, paren) is var (literal, end) && literal is not null)
            {
                var tokens = IndexPruner.Tokens(literal);
                var test = tokens.Count == 0 ? "false" : "(" + string.Join(" AND ", tokens.Select(t =>
                    $@"({text} ILIKE '%{t}%' AND regexp_matches({text}, '(?i)(^|[^\p{{L}}\p{{N}}]){t}([^\p{{L}}\p{{N}}]|$)'))")) + ")";
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

    /// <summary>OpenObserve-compatible functions, as macros.</summary>
    private static void DefineFunctions(DuckDBConnection conn)
    {
        // Every token of q (runs of letters and digits) must occur as a whole token of the text, case-insensitively.
        Exec(conn, """
            CREATE MACRO __ms_match_all(txt, q) AS list_bool_and(list_transform(regexp_extract_all(lower(q), '[\p{L}\p{N}]+'),
                t -> contains(lower(txt), t) AND regexp_matches(lower(txt), '(^|[^\p{L}\p{N}])' || t || '([^\p{L}\p{N}]|$)')));
            CREATE MACRO str_match(f, s) AS contains(CAST(f AS VARCHAR), s);
            CREATE MACRO str_match_ignore_case(f, s) AS contains(lower(CAST(f AS VARCHAR)), lower(s));
            CREATE MACRO re_match(f, r) AS regexp_matches(CAST(f AS VARCHAR), r);
            CREATE MACRO re_not_match(f, r) AS NOT regexp_matches(CAST(f AS VARCHAR), r);
            CREATE MACRO histogram(ts, i) AS epoch_us(time_bucket(CAST(i AS INTERVAL), make_timestamp(ts)));
            """);
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
