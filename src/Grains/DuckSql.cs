using DuckDB.NET.Data;

namespace MoleSignal.Grains;

/// <summary>
/// Names and text spliced into DuckDB SQL: quoted identifiers and string literals, escaped once, here; and the
/// one way to open a further connection to a database.
/// </summary>
public static class DuckSql
{
    /// <summary>A new connection to <paramref name="root"/>'s database; DuckDB.NET's Duplicate is not
    /// thread-safe.</summary>
    public static DuckDBConnection Connect(DuckDBConnection root)
    {
        lock (root)
        {
            var conn = root.Duplicate();
            conn.Open();
            return conn;
        }
    }

    /// <summary><c>"name"</c>, inner quotes doubled.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    /// <summary><c>'text'</c>, inner quotes doubled.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''") + "'";
}
