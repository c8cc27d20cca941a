using System.Text.Json.Nodes;
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
        var root = JsonNode.Parse(SqlInspector.Serialize(conn, sql))!;
        var node = root["statements"]![0]!["node"]!.AsObject();
        var columns = Projection(node, fields);
        var select = columns is null ? "*" : string.Join(", ", columns.Select(DuckSql.Identifier));
        var from = DuckSql.Identifier(view);
        if (!FilterPushable(node)) return $"SELECT {select} FROM {from}";

        // The statement reduced to SELECT * FROM view WHERE ...: the parser prints the filter back as SQL.
        var star = JsonNode.Parse(SqlInspector.Serialize(conn, $"SELECT * FROM {from}"))!["statements"]![0]!["node"]!.DeepClone().AsObject();
        star["where_clause"] = node["where_clause"]!.DeepClone();
        root["statements"]![0]!["node"] = star;
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT json_deserialize_sql({DuckSql.Literal(root.ToJsonString())})";
        var filtered = (string)cmd.ExecuteScalar()!;
        return $"SELECT {select} FROM ({filtered}) AS __shard";
    }

    /// <summary>Only a plain one-table SELECT's WHERE without subqueries or windows runs the same on any subset of rows.</summary>
    private static bool FilterPushable(JsonObject node) =>
        Str(node["type"]) == "SELECT_NODE"
        && node["cte_map"]?["map"] is not JsonArray { Count: > 0 }
        && Str(node["from_table"]?["type"]) == "BASE_TABLE"
        && node["where_clause"] is JsonObject where
        && !Contains(where, o => Str(o["class"]) is "SUBQUERY" or "WINDOW");

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

    /// <summary>A string property; null when absent or not a string (a property name can mean an object elsewhere in the tree).</summary>
    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Contains(JsonNode node, Func<JsonObject, bool> test)
    {
        var found = false;
        Visit(node, o => found |= test(o));
        return found;
    }

    private static void Visit(JsonNode? n, Action<JsonObject> onObject)
    {
        switch (n)
        {
            case JsonArray a:
                foreach (var item in a) Visit(item, onObject);
                break;
            case JsonObject o:
                onObject(o);
                foreach (var p in o) Visit(p.Value, onObject);
                break;
        }
    }
}
