namespace MoleSignal.Grains;

/// <summary>Names and text spliced into DuckDB SQL: quoted identifiers and string literals, escaped once, here.</summary>
public static class DuckSql
{
    /// <summary><c>"name"</c>, inner quotes doubled.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    /// <summary><c>'text'</c>, inner quotes doubled.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''") + "'";
}
