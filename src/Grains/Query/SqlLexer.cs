using System.Text;

namespace MoleSignal.Grains.Query;

/// <summary>
/// The little of DuckDB's lexical rules a rewrite of user SQL needs to stay inside real tokens: white space,
/// <c>--</c> line comments and nested <c>/* */</c> block comments are trivia; <c>'...'</c> is a string literal
/// (<c>''</c> inside); <c>"..."</c> a quoted identifier. A rewrite that finds anything else where it expects a
/// token gives up rather than guess, so commented-out or quoted text is never turned into live SQL.
/// </summary>
public static class SqlLexer
{
    /// <summary>The index of the next byte that is neither white space nor inside a comment (or the length).</summary>
    public static int SkipTrivia(ReadOnlySpan<byte> sql, int i)
    {
        while (i < sql.Length)
        {
            var b = sql[i];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v')
            {
                i++;
            }
            else if (b == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var nl = sql[i..].IndexOfAny((byte)'\n', (byte)'\r');
                i = nl < 0 ? sql.Length : i + nl + 1;
            }
            else if (b == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var depth = 1;
                for (i += 2; i < sql.Length && depth > 0; i++)
                {
                    if (sql[i] == '*' && i + 1 < sql.Length && sql[i + 1] == '/') { depth--; i++; }
                    else if (sql[i] == '/' && i + 1 < sql.Length && sql[i + 1] == '*') { depth++; i++; }
                }
            }
            else
            {
                return i;
            }
        }
        return i;
    }

    /// <summary>Whether an unquoted identifier equal (case-insensitively) to <paramref name="word"/> starts at
    /// i.</summary>
    public static bool IsWord(ReadOnlySpan<byte> sql, int i, string word, out int end)
    {
        end = i + word.Length;
        if (end > sql.Length) return false;
        for (var k = 0; k < word.Length; k++)
            if ((sql[i + k] | 0x20) != (word[k] | 0x20)) return false;
        return end == sql.Length || !IsIdentifierByte(sql[end]);
    }

    /// <summary>A plain string literal at i: its value and the index after its closing quote.</summary>
    public static bool TryStringLiteral(ReadOnlySpan<byte> sql, int i, out string value, out int end)
    {
        value = "";
        end = i;
        if (i >= sql.Length || sql[i] != '\'') return false;
        var text = new List<byte>();
        for (var k = i + 1; k < sql.Length; k++)
        {
            if (sql[k] != '\'')
            {
                text.Add(sql[k]);
                continue;
            }
            if (k + 1 < sql.Length && sql[k + 1] == '\'')
            {
                text.Add((byte)'\'');
                k++;
                continue;
            }
            value = Encoding.UTF8.GetString(text.ToArray());
            end = k + 1;
            return true;
        }
        return false;
    }

    private static bool IsIdentifierByte(byte b) =>
        b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'_' or (byte)'$' || b >= 0x80;
}
