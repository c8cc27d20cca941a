using System.Text;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Index;

namespace MoleSignal.Grains.Query;

/// <summary>The one rewrite of user SQL: <c>match_all</c> calls into tests over the stream's full-text
/// fields.</summary>
public static class MatchAllRewrite
{
    /// <summary>
    /// <c>match_all('q')</c> is rewritten in place (at the offsets the parser reported; macros cannot name
    /// columns) into a test over the stream's full-text fields: every token of q must occur as a whole token,
    /// case-insensitively. With q a literal, each token becomes a constant pattern (compiled once); otherwise the
    /// <c>__ms_match_all</c> macro does the same per row. The calls at <paramref name="holdsAt"/> become <c>true</c>.
    /// The call is read with <see cref="SqlLexer"/>, so comments and strings around it stay what they were; the
    /// rewritten statement goes through the gate again before it runs.
    /// </summary>
    public static string Apply(string sql, IReadOnlyList<int> at, List<string> textFields, IReadOnlyList<int> holdsAt)
    {
        if (at.Count == 0) return sql;
        var text = textFields.Count == 0
            ? "CAST(NULL AS VARCHAR)"
            : $"concat_ws(chr(10), {string.Join(", ", textFields.Select(DuckSql.Identifier))})";
        var fields = textFields.Count == 0 ? ["CAST(NULL AS VARCHAR)"] : textFields.Select(DuckSql.Identifier).ToList();
        var bytes = Encoding.UTF8.GetBytes(sql);
        var output = new List<byte>(bytes.Length + 256);
        var copied = 0;
        foreach (var offset in at.Order())
        {
            var span = bytes.AsSpan();
            if (offset < copied || !SqlLexer.IsWord(span, offset, "match_all", out var name)
                || SqlLexer.SkipTrivia(span, name) is var paren && (paren >= span.Length || span[paren] != '('))
                throw new QueryException(QueryErrorKind.Invalid, "invalid_sql",
                    "match_all must be called by its plain name: match_all('words')");
            output.AddRange(bytes.AsSpan(copied, offset - copied));
            var arg = SqlLexer.SkipTrivia(span, paren + 1);
            if (SqlLexer.TryStringLiteral(span, arg, out var literal, out var afterLiteral)
                && SqlLexer.SkipTrivia(span, afterLiteral) is var close && close < span.Length && span[close] == ')')
            {
                var test = holdsAt.Contains(offset) ? "true" : TokenTest(TextTokens.Of(literal), fields, text);
                output.AddRange(Encoding.UTF8.GetBytes(test));
                copied = close + 1;
            }
            else
            {
                output.AddRange(Encoding.UTF8.GetBytes($"__ms_match_all({text}, "));
                copied = paren + 1;
            }
        }
        output.AddRange(bytes.AsSpan(copied));
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>
    /// Each token in some field: ILIKE (pushed into the scan) rules most rows out, then one whole-token regex per
    /// token over the fields joined. A Unicode class costs DuckDB ~1 ms to compile per pattern and thread, so one
    /// pattern per token, not per token and field.
    /// </summary>
    private static string TokenTest(List<string> tokens, List<string> fields, string text)
    {
        if (tokens.Count == 0) return "false";
        var joined = fields.Count == 1 ? fields[0] : text;
        return "(" + string.Join(" AND ", tokens.Select(t =>
        {
            var any = string.Join(" OR ", fields.Select(f => $"{f} ILIKE '%{t}%'"));
            return $@"(({any}) AND regexp_matches({joined}, '(?i)(^|[^\p{{L}}\p{{Nd}}]){t}([^\p{{L}}\p{{Nd}}]|$)'))";
        })) + ")";
    }
}
