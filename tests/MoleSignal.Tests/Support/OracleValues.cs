using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace MoleSignal.Tests.Support;

/// <summary>Values of an answer and of a plain DuckDB oracle in one comparable form: numbers rounded to 6
/// places, booleans as words, null as null.</summary>
public static class OracleValues
{
    public static string? Normalize(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.Number => Normalize(e.GetDouble()),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => e.GetRawText(),
    };

    public static string? Normalize(object v) => v switch
    {
        System.Numerics.BigInteger b => Normalize((double)b),
        double or float or decimal or long or int or short or System.Numerics.BigInteger or ulong =>
            Math.Round(Convert.ToDouble(v, CultureInfo.InvariantCulture), 6)
                .ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => v.ToString(),
    };

    /// <summary>The oracle: <paramref name="sql"/> in a plain in-memory DuckDB where <paramref name="view"/> (a
    /// CREATE VIEW statement) defines the table, its rows normalised.</summary>
    public static List<List<string?>> Oracle(string view, string sql)
    {
        using var conn = new DuckDBConnection("DataSource=:memory:");
        conn.Open();
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = view;
            cmd.ExecuteNonQuery();
        }
        using var q = conn.CreateCommand();
        q.CommandText = sql;
        using var r = q.ExecuteReader();
        var rows = new List<List<string?>>();
        while (r.Read())
            rows.Add(Enumerable.Range(0, r.FieldCount)
                .Select(i => r.IsDBNull(i) ? null : Normalize(r.GetValue(i))).ToList());
        return rows;
    }

    /// <summary>An answer's rows, normalised as the oracle's.</summary>
    public static List<List<string?>> Rows(JsonElement body) => body.GetProperty("rows").EnumerateArray()
        .Select(r => r.EnumerateArray().Select(Normalize).ToList()).ToList();
}
