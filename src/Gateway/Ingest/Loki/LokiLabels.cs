using System.Text;

namespace MoleSignal.Gateway.Ingest.Loki;

/// <summary>
/// A push stream's labels in the protobuf form, a selector <c>{name="value", ...}</c>: names are
/// <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, values double-quoted with Go's escapes (<c>\" \\ \n \t \r</c>, <c>\xHH</c>,
/// <c>\uHHHH</c>). Only <c>=</c> is allowed, as Loki's push accepts.
/// </summary>
public static class LokiLabels
{
    /// <summary>At most this many labels a stream (Loki's default <c>max_label_names_per_series</c> is 15).</summary>
    public const int MaxLabels = 64;

    /// <returns>Null, or why <paramref name="selector"/> is not a label set.</returns>
    public static string? Parse(string selector, List<KeyValuePair<string, string>> labels)
    {
        var s = selector.AsSpan().Trim();
        if (s.Length < 2 || s[0] != '{' || s[^1] != '}')
            return $"labels must be {{name=\"value\", ...}}: {Cut(selector)}";
        var i = 1;
        var end = s.Length - 1;
        var value = new StringBuilder();
        while (true)
        {
            Skip(s, ref i, end);
            if (i == end) return null;
            var start = i;
            if (!(char.IsAsciiLetter(s[i]) || s[i] == '_')) return $"bad label name at {i}: {Cut(selector)}";
            while (i < end && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
            var name = s[start..i].ToString();
            Skip(s, ref i, end);
            if (i == end || s[i] != '=' || (i + 1 < end && s[i + 1] is '~' or '='))
                return $"label {name} needs =\"value\"";
            i++;
            Skip(s, ref i, end);
            if (i == end || s[i] != '"') return $"label {name}: the value must be double-quoted";
            i++;
            value.Clear();
            while (true)
            {
                if (i >= end) return $"label {name}: unterminated value";
                var c = s[i++];
                if (c == '"') break;
                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }
                if (i >= end) return $"label {name}: unterminated value";
                var e = s[i++];
                switch (e)
                {
                    case '"' or '\\' or '\'': value.Append(e); break;
                    case 'n': value.Append('\n'); break;
                    case 't': value.Append('\t'); break;
                    case 'r': value.Append('\r'); break;
                    case 'x' or 'u' or 'U':
                        var digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (i + digits > end || !int.TryParse(s.Slice(i, digits), System.Globalization.NumberStyles
                                .HexNumber, null, out var code) || code > 0x10FFFF
                            || code is >= 0xD800 and <= 0xDFFF)
                            return $"label {name}: bad \\{e} escape";
                        if (e == 'x') value.Append((char)code);
                        else value.Append(char.ConvertFromUtf32(code));
                        i += digits;
                        break;
                    default: return $"label {name}: unknown escape \\{e}";
                }
            }
            if (labels.Count == MaxLabels) return $"more than {MaxLabels} labels";
            labels.Add(new(name, value.ToString()));
            Skip(s, ref i, end);
            if (i == end) return null;
            if (s[i] != ',') return $"labels must be separated by commas: {Cut(selector)}";
            i++;
        }
    }

    private static void Skip(ReadOnlySpan<char> s, ref int i, int end)
    {
        while (i < end && char.IsWhiteSpace(s[i])) i++;
    }

    private static string Cut(string s) => s.Length <= 100 ? s : s[..100] + "…";
}
