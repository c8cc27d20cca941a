using System.Collections.Concurrent;
using System.Text.Json;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Query;

/// <summary>A table the user SQL names: schema (logs, metrics, traces) and name.</summary>
public sealed record TableRef(string Type, string Name);

/// <summary>
/// What the SQL reads, and what the WHERE clause of a statement that reads one stream once requires of every row
/// through top-level AND terms (safe to prune its files by): match_all() texts, id equalities and <c>_timestamp</c>
/// bounds. With a subquery or CTE these stay empty: the stream's view would be narrowed for every reference to it.
/// </summary>
public sealed record SqlShape(IReadOnlyList<TableRef> Tables, IReadOnlyList<string> MatchAll,
    IReadOnlyList<(string Column, string Value)> Equalities, long? MinTs, long? MaxTs)
{
    /// <summary>UTF-8 byte offsets of every match_all call in the SQL (to pass it the stream's text fields).</summary>
    public IReadOnlyList<int> MatchAllAt { get; init; } = [];

    /// <summary>Offsets of the match_all calls that are top-level AND terms of the WHERE clause (<see cref="MatchAll"/>'s).</summary>
    public IReadOnlyList<int> MatchAllConjunctAt { get; init; } = [];

    /// <summary>n when the query is <c>... FROM stream ORDER BY _timestamp DESC LIMIT n</c> with nothing else
    /// narrowing the rows: only the newest files can hold the answer.</summary>
    public long? LatestN { get; init; }

    /// <summary>The query is <c>... FROM stream ORDER BY _timestamp DESC</c> with no LIMIT and nothing else narrowing
    /// the rows: a limit the request sets beside it makes it a newest-n query (see <see cref="LatestN"/>).</summary>
    public bool NewestFirst { get; init; }

    /// <summary>
    /// One table reference, no subquery, no CTE: the engine scans the stream once (so a one-pass view over it,
    /// such as an Arrow stream, is safe to read in place).
    /// </summary>
    public bool ReadsStreamOnce { get; init; }

    /// <summary>The SQL with schema-qualified stream names replaced by the names of their views.</summary>
    public string Sql { get; init; } = "";

    /// <summary>The column name when the query is exactly <c>SELECT count(*) FROM stream</c>: FileMeta answers it.</summary>
    public string? CountAll { get; init; }
}

/// <summary>
/// Checks user SQL with DuckDB's own parser (<c>json_serialize_sql</c>, which only accepts SELECT statements):
/// exactly one SELECT, no catalog-qualified tables, no table functions but a few harmless ones, no functions
/// that reveal settings or the environment. Returns the tables it names. The engine's sandbox settings are the
/// second line of defence.
/// </summary>
public static class SqlInspector
{
    private static readonly HashSet<string> AllowedTableFunctions = ["range", "generate_series", "unnest"];
    private static readonly HashSet<string> DeniedFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "current_setting", "getenv", "current_schemas", "pg_get_viewdef", "which_secret", "getvariable",
    };
    public static readonly string[] StreamSchemas = ["logs", "metrics", "traces"];

    /// <summary>The temp view a stream is bound to: its name for logs, "type.name" otherwise (no stream name has a dot).</summary>
    public static string ViewName(TableRef t) => t.Type == "logs" ? t.Name : $"{t.Type}.{t.Name}";

    public static SqlShape Inspect(DuckDBConnection conn, string sql)
    {
        if (Verdicts.Shape(sql) is { } known) return known;
        var (shape, json, qualified) = InspectOnce(conn, sql);
        SqlShape result;
        if (qualified)
        {
            var rewritten = WithViewNames(conn, json);
            result = InspectOnce(conn, rewritten).Shape with { Tables = shape.Tables, Sql = rewritten };
        }
        else
        {
            result = shape with { Sql = sql };
        }
        Verdicts.Remember(sql, result);
        return result;
    }

    /// <summary>
    /// The gate again, over a statement as it will run (after the rewrites): the same rules, and every table it
    /// reads must be one of <paramref name="views"/>, the views bound for this query.
    /// </summary>
    public static void CheckRewritten(DuckDBConnection conn, string sql, IReadOnlyCollection<string> views)
    {
        var tables = Verdicts.Tables(sql);
        if (tables is null)
        {
            tables = InspectOnce(conn, sql).Shape.Tables;
            Verdicts.Remember(sql, tables);
        }
        foreach (var t in tables)
            if (!views.Contains(ViewName(t), StringComparer.OrdinalIgnoreCase))
                throw new QueryException(QueryErrorKind.Forbidden, "forbidden", $"table '{ViewName(t)}' is not a stream of this org");
    }

    /// <summary>
    /// What the gate concluded about SQL texts it passed: the verdict is a function of the text alone (DuckDB's
    /// parser and these rules), so repeated statements (dashboards, alerts, the distributed shards) skip the
    /// parse. Refusals are not kept. Bounded: short texts only, and the memo starts over when full.
    /// </summary>
    private static class Verdicts
    {
        private const int MaxEntries = 4096;
        private const int MaxSqlChars = 4096;
        private static readonly ConcurrentDictionary<string, SqlShape> Shapes = new(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, IReadOnlyList<TableRef>> Reads = new(StringComparer.Ordinal);

        public static SqlShape? Shape(string sql) => Shapes.TryGetValue(sql, out var s) ? s : null;

        public static IReadOnlyList<TableRef>? Tables(string sql) => Reads.TryGetValue(sql, out var t) ? t : null;

        public static void Remember(string sql, SqlShape shape) => Put(Shapes, sql, shape);

        public static void Remember(string sql, IReadOnlyList<TableRef> tables) => Put(Reads, sql, tables);

        private static void Put<T>(ConcurrentDictionary<string, T> memo, string sql, T value)
        {
            if (sql.Length > MaxSqlChars) return;
            if (memo.Count >= MaxEntries) memo.Clear();
            memo[sql] = value;
        }
    }

    internal static string Serialize(DuckDBConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        // The function wants a constant, not a parameter.
        cmd.CommandText = $"SELECT json_serialize_sql({DuckSql.Literal(sql)})";
        return (string)cmd.ExecuteScalar()!;
    }

    /// <summary>Views are TEMP and cannot live in schemas: <c>metrics.cpu</c> becomes <c>"metrics.cpu"</c>, <c>logs.app</c> becomes <c>app</c>.</summary>
    private static string WithViewNames(DuckDBConnection conn, string json)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        void Visit(System.Text.Json.Nodes.JsonNode? n)
        {
            switch (n)
            {
                case System.Text.Json.Nodes.JsonArray a:
                    foreach (var item in a) Visit(item);
                    break;
                case System.Text.Json.Nodes.JsonObject o:
                    if (o["type"] is System.Text.Json.Nodes.JsonValue type && type.TryGetValue<string>(out var t) && t == "BASE_TABLE"
                        && (string?)o["schema_name"] is { Length: > 0 } schema && StreamSchemas.Contains(schema))
                    {
                        o["table_name"] = ViewName(new TableRef(schema, (string)o["table_name"]!));
                        o["schema_name"] = "";
                    }
                    foreach (var p in o.ToList()) Visit(p.Value);
                    break;
            }
        }
        Visit(root);
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT json_deserialize_sql({DuckSql.Literal(root.ToJsonString())})";
        return (string)cmd.ExecuteScalar()!;
    }

    /// <returns>The shape, the statement's AST as JSON, and whether it names a stream with its schema (<c>metrics.cpu</c>).</returns>
    private static (SqlShape Shape, string Json, bool Qualified) InspectOnce(DuckDBConnection conn, string sql)
    {
        var json = Serialize(conn, sql);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.GetProperty("error").GetBoolean())
        {
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : "not a valid statement";
            // Statements other than SELECT fail here too ("Only SELECT statements can be serialized").
            throw new QueryException(QueryErrorKind.Invalid, "invalid_sql", message?.Contains("SELECT statements", StringComparison.Ordinal) == true
                ? "only a single SELECT statement is allowed (no SET, PRAGMA, COPY, ATTACH, INSTALL, LOAD, DDL or DML)"
                : message!);
        }
        var statements = root.GetProperty("statements");
        if (statements.GetArrayLength() != 1)
            throw new QueryException(QueryErrorKind.Invalid, "invalid_sql", "exactly one SELECT statement is allowed");
        var walked = new Walked();
        Walk(statements[0], walked, null);
        var shape = new SqlShape(walked.Tables.Distinct().ToList(), [], [], null, null)
        {
            MatchAllAt = walked.MatchAllAt,
            ReadsStreamOnce = walked.Tables.Count == 1 && !walked.Nested,
        };
        var node = statements[0].GetProperty("node");
        // The shortcuts below narrow the stream's view, so they need its only reference (not a CTE of the same name).
        if (shape.ReadsStreamOnce && node.GetProperty("type").GetString() == "SELECT_NODE" && node.GetProperty("from_table").GetProperty("type").GetString() == "BASE_TABLE")
        {
            if (node.GetProperty("where_clause") is { ValueKind: JsonValueKind.Object } where)
                shape = Conjuncts(where, shape);
            else
            {
                var (newestFirst, limit) = Newest(node);
                shape = shape with
                {
                    LatestN = newestFirst ? limit : null, NewestFirst = newestFirst && limit is null,
                    CountAll = CountAll(node),
                };
            }
        }
        return (shape, json, walked.Qualified);
    }

    private static string? CountAll(JsonElement node)
    {
        if (node.GetProperty("group_expressions").GetArrayLength() > 0 || node.GetProperty("modifiers").GetArrayLength() > 0) return null;
        if (node.TryGetProperty("having", out var having) && having.ValueKind != JsonValueKind.Null) return null;
        if (node.TryGetProperty("qualify", out var qualify) && qualify.ValueKind != JsonValueKind.Null) return null;
        var list = node.GetProperty("select_list");
        if (list.GetArrayLength() != 1) return null;
        var item = list[0];
        if (item.GetProperty("class").GetString() != "FUNCTION" || item.GetProperty("function_name").GetString() != "count_star") return null;
        if (item.TryGetProperty("filter", out var filter) && filter.ValueKind != JsonValueKind.Null) return null;
        var alias = item.GetProperty("alias").GetString();
        return string.IsNullOrEmpty(alias) ? "count_star()" : alias;
    }

    /// <summary>Whether the rows are the stream's plain columns newest first (no aggregate, window, DISTINCT or
    /// OFFSET), and the statement's LIMIT.</summary>
    private static (bool NewestFirst, long? Limit) Newest(JsonElement node)
    {
        if (node.GetProperty("group_expressions").GetArrayLength() > 0) return (false, null);
        // Plain columns only: an aggregate or window over the whole stream needs every file.
        foreach (var item in node.GetProperty("select_list").EnumerateArray())
            if (item.GetProperty("class").GetString() is not ("STAR" or "COLUMN_REF" or "CONSTANT"))
                return (false, null);
        if (node.TryGetProperty("having", out var having) && having.ValueKind != JsonValueKind.Null)
            return (false, null);
        long? limit = null;
        var newestFirst = false;
        foreach (var m in node.GetProperty("modifiers").EnumerateArray())
        {
            switch (m.GetProperty("type").GetString())
            {
                case "ORDER_MODIFIER":
                    var orders = m.GetProperty("orders");
                    newestFirst = orders.GetArrayLength() == 1 && orders[0].GetProperty("type").GetString() is "DESCENDING" or "ORDER_DESCENDING"
                        && Column(orders[0].GetProperty("expression")) == "_timestamp";
                    break;
                case "LIMIT_MODIFIER":
                    if (m.TryGetProperty("offset", out var offset) && offset.ValueKind != JsonValueKind.Null)
                        return (false, null);
                    limit = IntConstant(m.GetProperty("limit"));
                    // A LIMIT that is no constant (an expression) leaves it unknown: no pruning by it.
                    if (limit is null) return (false, null);
                    break;
                default:
                    return (false, null); // DISTINCT and the like
            }
        }
        return (newestFirst, limit);
    }

    private static SqlShape Conjuncts(JsonElement e, SqlShape shape)
    {
        var type = e.GetProperty("type").GetString();
        if (type == "CONJUNCTION_AND")
        {
            foreach (var child in e.GetProperty("children").EnumerateArray()) shape = Conjuncts(child, shape);
            return shape;
        }
        var cls = e.GetProperty("class").GetString();
        if (cls == "FUNCTION" && e.GetProperty("function_name").GetString() == "match_all"
            && e.GetProperty("children") is { ValueKind: JsonValueKind.Array } args && args.GetArrayLength() == 1
            && StringConstant(args[0]) is { } text)
            return shape with
            {
                MatchAll = [.. shape.MatchAll, text],
                MatchAllConjunctAt = e.TryGetProperty("query_location", out var at) && at.TryGetInt32(out var offset)
                    ? [.. shape.MatchAllConjunctAt, offset] : shape.MatchAllConjunctAt,
            };
        if (cls != "COMPARISON") return shape;
        var (left, right, op) = (e.GetProperty("left"), e.GetProperty("right"), type);
        if (Column(left) is null && Column(right) is not null)
        {
            (left, right) = (right, left);
            op = op switch
            {
                "COMPARE_GREATERTHAN" => "COMPARE_LESSTHAN",
                "COMPARE_LESSTHAN" => "COMPARE_GREATERTHAN",
                "COMPARE_GREATERTHANOREQUALTO" => "COMPARE_LESSTHANOREQUALTO",
                "COMPARE_LESSTHANOREQUALTO" => "COMPARE_GREATERTHANOREQUALTO",
                _ => op,
            };
        }
        var column = Column(left);
        if (column is null) return shape;
        if (column == "_timestamp" && IntConstant(right) is { } ts)
        {
            return op switch
            {
                "COMPARE_EQUAL" => shape with { MinTs = Max(shape.MinTs, ts), MaxTs = Min(shape.MaxTs, ts) },
                "COMPARE_GREATERTHAN" => shape with { MinTs = Max(shape.MinTs, ts + 1) },
                "COMPARE_GREATERTHANOREQUALTO" => shape with { MinTs = Max(shape.MinTs, ts) },
                "COMPARE_LESSTHAN" => shape with { MaxTs = Min(shape.MaxTs, ts - 1) },
                "COMPARE_LESSTHANOREQUALTO" => shape with { MaxTs = Min(shape.MaxTs, ts) },
                _ => shape,
            };
        }
        if (op == "COMPARE_EQUAL" && StringConstant(right) is { } value)
            return shape with { Equalities = [.. shape.Equalities, (column, value)] };
        return shape;
    }

    private static long Max(long? a, long b) => a is null ? b : Math.Max(a.Value, b);
    private static long Min(long? a, long b) => a is null ? b : Math.Min(a.Value, b);

    private static string? Column(JsonElement e) =>
        e.GetProperty("class").GetString() == "COLUMN_REF" ? e.GetProperty("column_names").EnumerateArray().Last().GetString() : null;

    private static string? StringConstant(JsonElement e) =>
        e.GetProperty("class").GetString() == "CONSTANT" && e.GetProperty("value") is var v && !v.GetProperty("is_null").GetBoolean()
            && v.TryGetProperty("value", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;

    private static long? IntConstant(JsonElement e) =>
        e.GetProperty("class").GetString() == "CONSTANT" && e.GetProperty("value") is var v && !v.GetProperty("is_null").GetBoolean()
            && v.TryGetProperty("value", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt64(out var l) ? l : null;

    /// <summary>What a walk over the AST found.</summary>
    private sealed class Walked
    {
        public List<TableRef> Tables { get; } = [];
        public List<int> MatchAllAt { get; } = [];
        /// <summary>The statement holds a subquery or a CTE.</summary>
        public bool Nested { get; set; }
        /// <summary>A stream is named with its schema (<c>logs.app</c>, <c>metrics.cpu</c>).</summary>
        public bool Qualified { get; set; }
    }

    /// <summary>The CTE names visible where a node stands (DuckDB matches them case-insensitively).</summary>
    private sealed record Scope(Scope? Outer, string Name)
    {
        public static bool Has(Scope? s, string name)
        {
            for (; s is not null; s = s.Outer)
                if (string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }
    }

    /// <summary>
    /// Every table reference must be a CTE in scope, a stream (<c>name</c>, <c>logs.name</c>, <c>metrics.name</c>,
    /// <c>traces.name</c>) or an allowed table function: the engine's own catalog (<c>pg_settings</c>,
    /// <c>duckdb_*</c>, <c>information_schema</c>), other schemas and catalogs, file paths and replacement scans
    /// are refused here, before anything reaches the engine. A CTE is in scope in the statement that defines it and
    /// in the CTEs defined after it, in its own query only when it is recursive: a non-recursive CTE's own name
    /// inside it means a table of the catalog.
    /// </summary>
    private static void Walk(JsonElement e, Walked walked, Scope? scope)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Walk(item, walked, scope);
                return;
            case JsonValueKind.Object:
                break;
            default:
                return;
        }
        if (e.TryGetProperty("cte_map", out var ctes) && ctes.ValueKind == JsonValueKind.Object
            && ctes.TryGetProperty("map", out var map) && map.GetArrayLength() > 0)
        {
            walked.Nested = true;
            foreach (var cte in map.EnumerateArray())
            {
                var name = cte.GetProperty("key").GetString()!;
                var query = cte.GetProperty("value").GetProperty("query");
                var recursive = query.TryGetProperty("node", out var n) && n.TryGetProperty("type", out var nt)
                    && nt.GetString() == "RECURSIVE_CTE_NODE";
                Walk(query, walked, recursive ? new Scope(scope, name) : scope);
                scope = new Scope(scope, name);
            }
        }
        if (e.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
        {
            switch (type.GetString())
            {
                case "BASE_TABLE":
                    Table(e, walked, scope);
                    break;
                case "SUBQUERY":
                    walked.Nested = true;
                    break;
                case "TABLE_FUNCTION":
                    var fn = e.GetProperty("function").GetProperty("function_name").GetString()!;
                    if (!AllowedTableFunctions.Contains(fn))
                        throw new QueryException(QueryErrorKind.Forbidden, "forbidden", $"table function '{fn}' is not allowed: tables are the org's streams");
                    break;
                case "SHOW_REF":
                    // DESCRIBE / SUMMARIZE of a query are fine (the query is walked); SHOW TABLES and friends
                    // name the catalog.
                    if (e.TryGetProperty("table_name", out var shown) && !string.IsNullOrEmpty(shown.GetString()))
                        throw new QueryException(QueryErrorKind.Forbidden, "forbidden",
                            "SHOW reads the engine's catalog: tables are the org's streams");
                    break;
            }
        }
        var cls = e.TryGetProperty("class", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        if (cls == "SUBQUERY") walked.Nested = true;
        if (cls == "FUNCTION" && e.TryGetProperty("function_name", out var f))
        {
            var name = f.GetString()!;
            if (DeniedFunctions.Contains(name) || name.StartsWith("duckdb_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("pragma_", StringComparison.OrdinalIgnoreCase))
                throw new QueryException(QueryErrorKind.Forbidden, "forbidden", $"function '{name}' is not allowed");
            if (name == "match_all" && e.TryGetProperty("query_location", out var at) && at.TryGetInt32(out var offset))
                walked.MatchAllAt.Add(offset);
        }
        foreach (var p in e.EnumerateObject())
            if (p.Name != "cte_map") Walk(p.Value, walked, scope);
    }

    private static void Table(JsonElement e, Walked walked, Scope? scope)
    {
        var catalog = e.GetProperty("catalog_name").GetString();
        var schema = e.GetProperty("schema_name").GetString() ?? "";
        var name = e.GetProperty("table_name").GetString()!;
        if (string.IsNullOrEmpty(catalog) && schema == "" && Scope.Has(scope, name)) return;
        if (!string.IsNullOrEmpty(catalog))
            throw new QueryException(QueryErrorKind.Forbidden, "forbidden",
                $"'{catalog}.{schema}.{name}': tables are the org's streams; catalogs cannot be named");
        var lowered = schema.ToLowerInvariant();
        if (StreamSchemas.Contains(lowered)) walked.Qualified = true;
        if (lowered is "" or "main") lowered = "logs";
        if (!StreamSchemas.Contains(lowered))
            throw new QueryException(QueryErrorKind.Forbidden, "forbidden",
                $"'{schema}.{name}': tables are the org's streams (schemas logs, metrics and traces)");
        walked.Tables.Add(new TableRef(lowered, name.ToLowerInvariant()));
    }
}
