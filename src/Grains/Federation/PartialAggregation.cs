using System.Text.Json.Nodes;
using static MoleSignal.Grains.Query.DuckAst;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Query;

namespace MoleSignal.Grains.Federation;

/// <summary>
/// A federated aggregate split in two: each cluster computes partial aggregates of its own rows per group, and
/// the coordinator combines them (counts and sums summed, minima and maxima of them, an average as the sum of
/// sums over the sum of counts), so a cluster sends one row per group instead of every row. It applies to one
/// SELECT over one stream, grouped by expressions (or not at all) with count, sum, min, max and avg (not
/// DISTINCT, FILTER or ordered) and nothing else that reads rows; anything else is scanned row by row. A cluster's
/// <c>_cluster</c> is its name as a literal in its own partial statement.
/// </summary>
public sealed class PartialAggregation
{
    private static readonly HashSet<string> Supported = ["count_star", "count", "sum", "min", "max", "avg"];
    private static HashSet<string>? _aggregates;

    private readonly JsonNode _root;
    private readonly JsonObject _partial;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, bool), string> _partials = new();

    /// <summary>Plans by statement and view schema: the plan is a function of both, so a repeated statement (a
    /// dashboard, a benchmark) skips the parses. Bounded: the memo starts over when full.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Sql, string Schema),
        PartialAggregation?> Plans = new();

    private const int MaxPlans = 1024;

    private PartialAggregation(JsonNode root, JsonObject partial, string final)
    {
        _root = root;
        _partial = partial;
        Final = final;
    }

    /// <summary>The partial statement's columns with no rows (typed as every cluster's partial gives them): the
    /// union of the clusters' rows starts from it, so an answer without rows keeps its types.</summary>
    public string Empty { get; private set; } = "";

    /// <summary>The statement the coordinator runs over the union of the partial rows, bound as the stream's
    /// view: the user's columns, names, types, HAVING, ORDER BY and LIMIT.</summary>
    public string Final { get; }

    /// <summary>The partial statement of <paramref name="cluster"/> (its <c>_cluster</c> a literal).</summary>
    /// <param name="withFilter">false: without the WHERE clause (run over an empty view for the columns'
    /// types).</param>
    public string Partial(DuckDBConnection conn, string cluster, bool withFilter = true) =>
        _partials.GetOrAdd((cluster, withFilter), k => MakePartial(conn, k.Item1, k.Item2));

    private string MakePartial(DuckDBConnection conn, string cluster, bool withFilter)
    {
        var node = (JsonObject)_partial.DeepClone();
        if (!withFilter) node["where_clause"] = null;
        // A group expression that becomes the cluster's name stays a group: no rows still make no group.
        Replace(node, o => IsColumn(o, ClusterTargets.Column)
            ? Aliased(Constant(cluster), Str(o["alias"]) ?? "")
            : null);
        var root = _root.DeepClone();
        root["statements"]![0]!["node"] = node;
        return Print(conn, root);
    }

    /// <summary>Whether the split of this statement over this schema is known (a plan, or null when it does not
    /// apply): <see cref="TryPlan"/> then needs no view.</summary>
    public static bool Known(string sql, string schema, out PartialAggregation? plan) =>
        Plans.TryGetValue((sql, schema), out plan);

    /// <summary>The split of <paramref name="sql"/> (view names bound), or null when it does not apply. The
    /// stream's view must exist on <paramref name="conn"/> (typed, rows or not): the final statement keeps the
    /// output names and types the statement has over it.</summary>
    /// <param name="schema">The view's columns and types, as the memo's key.</param>
    public static PartialAggregation? TryPlan(DuckDBConnection conn, string sql, string view, string schema)
    {
        if (Plans.TryGetValue((sql, schema), out var known)) return known;
        var plan = Plan(conn, sql, view);
        if (plan is not null)
            plan.Empty = "SELECT " + string.Join(", ",
                Describe(conn, plan.Partial(conn, ClusterTargets.Local, withFilter: false)).Select(c =>
                    $"CAST(NULL AS {c.Type}) AS {DuckSql.Identifier(c.Name)}")) + " WHERE false";
        if (Plans.Count >= MaxPlans) Plans.Clear();
        Plans[(sql, schema)] = plan;
        return plan;
    }

    private static PartialAggregation? Plan(DuckDBConnection conn, string sql, string view)
    {
        var root = Parse(conn, sql);
        if (root["statements"] is not JsonArray { Count: 1 } statements
            || statements[0]!["node"] is not JsonObject node || !Eligible(conn, node, view))
            return null;
        var selects = (JsonArray)node["select_list"]!;
        // GROUP BY 2 names the second output column, GROUP BY m an output column's alias.
        var groups = new List<JsonNode>();
        foreach (var g in (JsonArray)node["group_expressions"]!)
        {
            if (Str(g!["class"]) == "CONSTANT")
            {
                if (g["value"]?["value"] is not JsonValue v || !v.TryGetValue<int>(out var k) || k < 1
                    || k > selects.Count)
                    return null;
                groups.Add(Canonical(selects[k - 1]!));
            }
            else if (Str(g["class"]) == "COLUMN_REF" && g["column_names"] is JsonArray { Count: 1 } name
                     && selects.FirstOrDefault(x => Str(x!["alias"]) is { Length: > 0 } a
                         && string.Equals(a, Str(name[0]), StringComparison.OrdinalIgnoreCase)) is { } aliased)
                groups.Add(Canonical(aliased));
            else groups.Add(Canonical(g));
        }
        var aggregates = new List<JsonNode>();
        Visit(node, o =>
        {
            if (IsAggregate(o) && !aggregates.Any(a => JsonNode.DeepEquals(a, Canonical(o))))
                aggregates.Add(Canonical(o));
        });
        if (aggregates.Count == 0 && groups.Count == 0) return null;

        var partial = (JsonObject)node.DeepClone();
        var partialSelect = new JsonArray();
        for (var j = 0; j < groups.Count; j++) partialSelect.Add(Aliased(groups[j].DeepClone(), G(j)));
        for (var i = 0; i < aggregates.Count; i++)
        {
            var a = (JsonObject)aggregates[i];
            if (Str(a["function_name"]) == "avg")
            {
                partialSelect.Add(Aliased(Function("sum", a["children"]![0]!.DeepClone()), A(i)));
                partialSelect.Add(Aliased(Function("count", a["children"]![0]!.DeepClone()), A(i) + "n"));
            }
            else partialSelect.Add(Aliased(a.DeepClone(), A(i)));
        }
        partial["select_list"] = partialSelect;
        partial["group_expressions"] = new JsonArray(groups.Select(g => g.DeepClone()).ToArray());
        partial["group_sets"] = groups.Count == 0 ? new JsonArray()
            : new JsonArray(new JsonArray(Enumerable.Range(0, groups.Count).Select(j => (JsonNode)j).ToArray()));
        partial["modifiers"] = new JsonArray();
        partial["having"] = null;

        // The final statement: aggregates combined, group expressions read from their columns, no WHERE (each
        // cluster applied it), output names and types as the statement gives them over the rows.
        // Names and types do not depend on the WHERE clause (which may call match_all, known only once rewritten).
        var unfiltered = (JsonObject)node.DeepClone();
        unfiltered["where_clause"] = null;
        var unfilteredRoot = root.DeepClone();
        unfilteredRoot["statements"]![0]!["node"] = unfiltered;
        var described = Describe(conn, Print(conn, unfilteredRoot));
        var final = (JsonObject)node.DeepClone();
        final["where_clause"] = null;
        JsonNode? Combine(JsonObject o)
        {
            var canonical = Canonical(o);
            var g = groups.FindIndex(x => JsonNode.DeepEquals(x, canonical));
            if (g >= 0) return Column(G(g));
            var i = aggregates.FindIndex(x => JsonNode.DeepEquals(x, canonical));
            if (i < 0) return null;
            return Str(o["function_name"]) switch
            {
                "count_star" or "count" or "sum" => Function("sum", Column(A(i))),
                "min" => Function("min", Column(A(i))),
                "max" => Function("max", Column(A(i))),
                _ => Divide(Function("sum", Column(A(i))), Function("sum", Column(A(i) + "n"))),
            };
        }
        var finalSelect = new JsonArray();
        for (var k = 0; k < selects.Count; k++)
        {
            var item = Replace(selects[k]!.DeepClone(), Combine);
            var (name, type) = described[k];
            if (System.Text.RegularExpressions.Regex.IsMatch(type, "^[A-Z]+$") && Contains(selects[k]!, IsAggregate))
                item = Cast(item, type);
            item["alias"] = name;
            finalSelect.Add(item);
        }
        final["select_list"] = finalSelect;
        final["group_expressions"] =
            new JsonArray(Enumerable.Range(0, groups.Count).Select(j => (JsonNode)Column(G(j))).ToArray());
        if (final["having"] is JsonNode having) final["having"] = Replace(having, Combine);
        foreach (var modifier in (JsonArray)final["modifiers"]!)
            if (modifier?["orders"] is JsonArray orders)
                foreach (var order in orders)
                    order!["expression"] = Replace(order["expression"]!, Combine);
        // Every column the final statement reads must be a partial column or an output name.
        var names = described.Select(d => d.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stray = false;
        Visit(final, o => stray |= Str(o["class"]) == "COLUMN_REF" && o["column_names"] is JsonArray c
            && Str(c[^1]) is { } n && !n.StartsWith("__p", StringComparison.Ordinal) && !names.Contains(n));
        if (stray) return null;
        var finalRoot = root.DeepClone();
        finalRoot["statements"]![0]!["node"] = final;
        return new PartialAggregation(root, partial, Print(conn, finalRoot));
    }

    private static string G(int j) => $"__pg{j}";

    private static string A(int i) => $"__pa{i}";

    /// <summary>One plain SELECT over the view alone, no DISTINCT, QUALIFY, sample, GROUP BY ALL, grouping sets,
    /// subquery or window; every aggregate a supported one in its plain form.</summary>
    private static bool Eligible(DuckDBConnection conn, JsonObject node, string view)
    {
        if (Str(node["type"]) != "SELECT_NODE" || node["cte_map"]?["map"] is JsonArray { Count: > 0 }
            || Str(node["aggregate_handling"]) != "STANDARD_HANDLING" || node["qualify"] is not null
            || node["sample"] is not null || node["from_table"] is not JsonObject from
            || Str(from["type"]) != "BASE_TABLE" || from["sample"] is not null
            || !string.Equals(Str(from["table_name"]), view, StringComparison.OrdinalIgnoreCase)
            || Str(from["schema_name"]) is { Length: > 0 })
            return false;
        if (((JsonArray)node["modifiers"]!).Any(m => Str(m!["type"]) == "DISTINCT_MODIFIER")) return false;
        var groups = ((JsonArray)node["group_expressions"]!).Count;
        if (node["group_sets"] is not JsonArray sets || sets.Count > 1
            || sets.Count == 1 && ((JsonArray)sets[0]!).Count != groups)
            return false;
        // match_all is rewritten at its place in the statement as written: only a WHERE clause may hold it here.
        foreach (var part in new[] { "select_list", "group_expressions", "having", "modifiers" })
            if (node[part] is { } n && Contains(n, o => Str(o["function_name"]) == "match_all"))
                return false;
        var aggregates = Aggregates(conn);
        var ok = true;
        Visit(node, o =>
        {
            if (Str(o["class"]) is "SUBQUERY" or "WINDOW") ok = false;
            if (Str(o["class"]) != "FUNCTION" || Str(o["function_name"]) is not { } f || !aggregates.Contains(f))
                return;
            if (!Supported.Contains(f) || o["distinct"]?.GetValue<bool>() == true || o["filter"] is not null
                || o["order_bys"]?["orders"] is JsonArray { Count: > 0 } || ((JsonArray)o["children"]!).Count > 1
                || ((JsonArray)o["children"]!).Any(c => Contains(c!, x => IsAggregate(x))))
                ok = false;
        });
        return ok;
    }

    /// <summary>The engine's aggregate function names (read once).</summary>
    private static HashSet<string> Aggregates(DuckDBConnection conn)
    {
        if (_aggregates is { } known) return known;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "count_star" };
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'";
        using var r = cmd.ExecuteReader();
        while (r.Read()) names.Add(r.GetString(0));
        return _aggregates = names;
    }

    private static bool IsAggregate(JsonObject o) =>
        Str(o["class"]) == "FUNCTION" && Str(o["function_name"]) is { } f && Supported.Contains(f);

    /// <summary>Output names and types of the statement over the stream's view.</summary>
    private static List<(string Name, string Type)> Describe(DuckDBConnection conn, string sql)
    {
        var columns = new List<(string, string)>();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = $"DESCRIBE {sql}";
        using var r = cmd.ExecuteReader();
        while (r.Read()) columns.Add((r.GetString(0), r.GetString(1)));
        return columns;
    }


    /// <summary>An expression as compared: without where it stood or what it was called.</summary>
    private static JsonNode Canonical(JsonNode n)
    {
        var copy = n.DeepClone();
        if (copy is JsonObject o) o["alias"] = "";
        Visit(copy, x => x["query_location"] = 0);
        return copy;
    }

    private static JsonObject Aliased(JsonNode n, string alias)
    {
        var o = (JsonObject)n;
        o["alias"] = alias;
        return o;
    }

    private static JsonObject Column(string name) => new()
    {
        ["class"] = "COLUMN_REF", ["type"] = "COLUMN_REF", ["alias"] = "", ["query_location"] = 0,
        ["column_names"] = new JsonArray(name),
    };

    private static JsonObject Constant(string text) => new()
    {
        ["class"] = "CONSTANT", ["type"] = "VALUE_CONSTANT", ["alias"] = "", ["query_location"] = 0,
        ["value"] = new JsonObject
        {
            ["type"] = new JsonObject { ["id"] = "VARCHAR", ["type_info"] = null }, ["is_null"] = false,
            ["value"] = text,
        },
    };

    private static JsonObject Function(string name, params JsonNode[] children) => new()
    {
        ["class"] = "FUNCTION", ["type"] = "FUNCTION", ["alias"] = "", ["query_location"] = 0,
        ["function_name"] = name, ["schema"] = "", ["children"] = new JsonArray(children), ["filter"] = null,
        ["order_bys"] = new JsonObject { ["type"] = "ORDER_MODIFIER", ["orders"] = new JsonArray() },
        ["distinct"] = false, ["is_operator"] = false, ["export_state"] = false, ["catalog"] = "",
    };

    /// <summary>a / b as a double (an average; no rows make it null).</summary>
    private static JsonObject Divide(JsonNode a, JsonNode b)
    {
        var f = Function("/", Cast(a, "DOUBLE"), b);
        f["is_operator"] = true;
        return f;
    }

    private static JsonObject Cast(JsonNode child, string type) => new()
    {
        ["class"] = "CAST", ["type"] = "OPERATOR_CAST", ["alias"] = "", ["query_location"] = 0, ["child"] = child,
        ["cast_type"] = new JsonObject { ["id"] = type, ["type_info"] = null }, ["try_cast"] = false,
    };

    private static bool IsColumn(JsonObject o, string name) =>
        Str(o["class"]) == "COLUMN_REF" && o["column_names"] is JsonArray { Count: 1 } c
        && string.Equals(Str(c[0]), name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Each object <paramref name="map"/> replaces (not looking inside what it returns), the rest kept;
    /// returns the node or its replacement.</summary>
    private static JsonNode Replace(JsonNode node, Func<JsonObject, JsonNode?> map)
    {
        if (node is JsonObject o && map(o) is { } replaced) return replaced;
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Select(p => p.Key).ToList())
                if (obj[key] is { } child && Replace(child, map) is var r && !ReferenceEquals(r, child))
                    obj[key] = r;
        }
        else if (node is JsonArray arr)
        {
            for (var i = 0; i < arr.Count; i++)
                if (arr[i] is { } item && Replace(item, map) is var r && !ReferenceEquals(r, item))
                    arr[i] = r;
        }
        return node;
    }
}
