using System.Globalization;
using System.Text.Json;

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
}
