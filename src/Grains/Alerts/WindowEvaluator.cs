using System.Globalization;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// Runs a rule's SQL over one window and reduces the result to a value per group: the group's row count, or the
/// named column of its (last) row. A rule counting rows without <c>group_by</c> always has its one group, 0 when
/// nothing matched, so "fewer than N rows" fires on silence.
/// </summary>
public sealed class WindowEvaluator(IQueryService queries)
{
    public const int MaxGroups = 1000;

    public async Task<IReadOnlyList<GroupValue>> EvaluateAsync(string org, AlertRuleSpec rule, long start, long end,
        CancellationToken ct)
    {
        await using var cursor = await queries.OpenAsync(new QueryRequest(org, rule.Sql, start, end), ct);
        var columns = cursor.Columns;
        var groupAt = rule.GroupBy.Select(g => IndexOf(columns, g, "group_by")).ToArray();
        var valueAt = rule.Condition.Column is { } c ? IndexOf(columns, c, "condition.column") : -1;
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var group = new string?[groupAt.Length];
        await foreach (var row in cursor.ReadRowsAsync(ct))
        {
            for (var i = 0; i < groupAt.Length; i++) group[i] = Text(row[groupAt[i]]);
            var key = JsonSerializer.Serialize(group);
            if (!values.ContainsKey(key) && values.Count == MaxGroups)
                throw new AlertEvaluationException($"the result has more than {MaxGroups} groups");
            if (valueAt < 0) values[key] = values.GetValueOrDefault(key) + 1;
            else values[key] = Number(row[valueAt], rule.Condition.Column!);
        }
        if (valueAt < 0 && groupAt.Length == 0 && values.Count == 0) values["[]"] = 0;
        return values.Select(kv => new GroupValue(kv.Key, kv.Value, Fires(rule.Condition, kv.Value))).ToList();
    }

    public static Severity? Fires(AlertCondition c, double value) =>
        AlertNames.Holds(c.Operator, value, c.Threshold) ? Severity.Critical
        : c.WarningThreshold is { } w && AlertNames.Holds(c.Operator, value, w) ? Severity.Warning
        : null;

    private static int IndexOf(IReadOnlyList<QueryColumn> columns, string name, string field)
    {
        for (var i = 0; i < columns.Count; i++)
            if (string.Equals(columns[i].Name, name, StringComparison.OrdinalIgnoreCase)) return i;
        throw new AlertEvaluationException($"{field} column '{name}' is not in the result");
    }

    private static string? Text(object? v) => v switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString(),
    };

    private static double Number(object? v, string column) => v switch
    {
        null => double.NaN,
        long l => l,
        int i => i,
        double d => d,
        float f => f,
        decimal m => (double)m,
        bool b => b ? 1 : 0,
        string s => double.TryParse(s, CultureInfo.InvariantCulture, out var d) ? d
            : throw new AlertEvaluationException($"condition.column '{column}' is not numeric"),
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new AlertEvaluationException($"condition.column '{column}' is not numeric"),
    };
}

/// <summary>A window the rule cannot be evaluated over (its result does not fit the rule); kept in its ledger.
/// </summary>
public sealed class AlertEvaluationException(string message) : Exception(message);
