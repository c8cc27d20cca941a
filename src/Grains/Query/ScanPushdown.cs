using System.Text.Json.Nodes;
using static MoleSignal.Grains.Query.DuckAst;
using DuckDB.NET.Data;

namespace MoleSignal.Grains.Query;

/// <summary>
/// What a shard of a distributed query scans: the columns the statement names (all of them for <c>*</c>) and,
/// for a single-table SELECT, its WHERE clause. Aggregation, ordering and limits stay with the coordinator, which
/// runs the whole statement again over the shards' rows (the spec's scan-only shards: no partial aggregates).
/// </summary>
public static class ScanPushdown
{
    /// <param name="sql">The statement as the coordinator runs it (views named, match_all already rewritten).</param>
    public static string ShardSql(DuckDBConnection conn, string sql, string view, IReadOnlyList<(string Name, string Type)> fields)
    {
        var root = Parse(conn, sql);
        var node = root["statements"]![0]!["node"]!.AsObject();
        var columns = Projection(node, fields);
        var select = columns is null ? "*" : string.Join(", ", columns.Select(DuckSql.Identifier));
        var from = DuckSql.Identifier(view);
        if (!FilterPushable(node, fields)) return $"SELECT {select} FROM {from}";
        return $"SELECT {select} FROM ({Filtered(conn, root, node, from)}) AS __shard";
    }

    /// <summary>
    /// What a remote cluster is asked for: the stream's columns <paramref name="projectionSql"/> reads (null: all)
    /// and the WHERE clause of <paramref name="filterSql"/> as SQL text, when it runs the same on any subset of
    /// rows and names only the stream's fields (null otherwise: the coordinator filters alone).
    /// </summary>
    /// <param name="projectionSql">The statement as the coordinator runs it (match_all rewritten into tests of the
    /// text fields, which must be shipped).</param>
    /// <param name="filterSql">The statement as the user wrote it (match_all kept, for the remote's index).</param>
    public static (List<string>? Columns, string? Filter) RemotePlan(DuckDBConnection conn, string projectionSql,
        string filterSql, string view, IReadOnlyList<(string Name, string Type)> fields)
    {
        // A function of its inputs alone, and five parses: a repeated statement reuses it.
        var key = (projectionSql, filterSql, view, string.Join(",", fields.Select(f => f.Name + ":" + f.Type)));
        if (RemotePlans.TryGetValue(key, out var known)) return known;
        var plan = PlanRemote(conn, projectionSql, filterSql, view, fields);
        if (RemotePlans.Count >= MaxPlans) RemotePlans.Clear();
        return RemotePlans[key] = plan;
    }

    private const int MaxPlans = 1024;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string, string, string),
        (List<string>?, string?)> RemotePlans = new();

    private static (List<string>? Columns, string? Filter) PlanRemote(DuckDBConnection conn, string projectionSql,
        string filterSql, string view, IReadOnlyList<(string Name, string Type)> fields)
    {
        var columns = Projection(Parse(conn, projectionSql)["statements"]![0]!["node"]!.AsObject(), fields);
        var root = Parse(conn, filterSql);
        var node = root["statements"]![0]!["node"]!.AsObject();
        if (!FilterPushable(node, fields)) return (columns, null);
        var from = DuckSql.Identifier(view);
        // The filter is what the parser prints after "WHERE" of the reduced statement; anything else is not sent.
        var bare = Filtered(conn, root, node, from, withWhere: false) + " WHERE ";
        var filtered = Filtered(conn, root, node, from);
        return (columns, filtered.StartsWith(bare, StringComparison.Ordinal) ? filtered[bare.Length..] : null);
    }

    /// <summary>The statement reduced to SELECT * FROM view WHERE ...: the parser prints the filter back as
    /// SQL.</summary>
    private static string Filtered(DuckDBConnection conn, JsonNode root, JsonObject node, string from,
        bool withWhere = true)
    {
        root = root.DeepClone();
        var star = Parse(conn, $"SELECT * FROM {from}")["statements"]![0]!["node"]!.DeepClone().AsObject();
        if (withWhere) star["where_clause"] = node["where_clause"]!.DeepClone();
        root["statements"]![0]!["node"] = star;
        return Print(conn, root);
    }

    /// <summary>
    /// Only a plain one-table SELECT's WHERE without subqueries or windows runs the same on any subset of rows, and
    /// only when every column it names is a field of the stream (not an alias of the select list, nor a column
    /// only the coordinator's view has).
    /// </summary>
    private static bool FilterPushable(JsonObject node, IReadOnlyList<(string Name, string Type)> fields) =>
        Str(node["type"]) == "SELECT_NODE"
        && node["cte_map"]?["map"] is not JsonArray { Count: > 0 }
        && Str(node["from_table"]?["type"]) == "BASE_TABLE"
        && node["where_clause"] is JsonObject where
        && !Contains(where, o => Str(o["class"]) is "SUBQUERY" or "WINDOW")
        && !Contains(where, o => Str(o["class"]) == "COLUMN_REF" && !NamesField(o, fields));

    private static bool NamesField(JsonObject columnRef, IReadOnlyList<(string Name, string Type)> fields) =>
        columnRef["column_names"] is JsonArray { Count: > 0 } names
        && fields.Any(f => Same(f.Name, Str(names[^1])) || names.Count > 1 && Same(f.Name, Str(names[0])));

    private static bool Same(string field, string? name) =>
        string.Equals(field, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Schema fields the statement names; null when it needs them all (a star anywhere, or a name it cannot place).</summary>
    private static List<string>? Projection(JsonObject node, IReadOnlyList<(string Name, string Type)> fields)
    {
        if (Contains(node, o => Str(o["class"]) == "STAR")) return null;
        var byName = fields.ToDictionary(f => f.Name, f => f.Name, StringComparer.OrdinalIgnoreCase);
        var wanted = new SortedSet<string>(StringComparer.Ordinal);
        Visit(node, o =>
        {
            if (Str(o["class"]) != "COLUMN_REF" || o["column_names"] is not JsonArray { Count: > 0 } names) return;
            if (byName.TryGetValue(Str(names[^1]) ?? "", out var field)) wanted.Add(field);
            else if (names.Count > 1 && byName.TryGetValue(Str(names[0]) ?? "", out var first)) wanted.Add(first); // struct access
        });
        if (wanted.Count == 0) wanted.Add("_timestamp"); // count(*) and the like: rows, any one column
        return wanted.ToList();
    }
}
