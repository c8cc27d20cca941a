using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace MoleSignal.Grains.Query;

/// <summary>DuckDB's JSON form of a statement (<c>json_serialize_sql</c>): walking it and printing it back.</summary>
public static class DuckAst
{
    public static JsonNode Parse(DuckDBConnection conn, string sql) =>
        JsonNode.Parse(SqlInspector.Serialize(conn, sql))!;

    /// <summary>The statement <paramref name="root"/> holds, as SQL text (<c>json_deserialize_sql</c>).</summary>
    public static string Print(DuckDBConnection conn, JsonNode root)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT json_deserialize_sql({DuckSql.Literal(root.ToJsonString())})";
        return (string)cmd.ExecuteScalar()!;
    }

    /// <summary>A string property; null when absent or not a string (a property name can mean an object
    /// elsewhere in the tree).</summary>
    public static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static bool Contains(JsonNode node, Func<JsonObject, bool> test)
    {
        var found = false;
        Visit(node, o => found |= test(o));
        return found;
    }

    /// <summary>Every object of the tree, parents first; <paramref name="onObject"/> may change the object's
    /// own properties.</summary>
    public static void Visit(JsonNode? n, Action<JsonObject> onObject)
    {
        switch (n)
        {
            case JsonArray a:
                foreach (var item in a) Visit(item, onObject);
                break;
            case JsonObject o:
                onObject(o);
                foreach (var p in o.ToList()) Visit(p.Value, onObject);
                break;
        }
    }
}
