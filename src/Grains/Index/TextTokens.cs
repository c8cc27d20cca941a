using Lucene.Net.Analysis;
using Lucene.Net.Analysis.TokenAttributes;

namespace MoleSignal.Grains.Index;

/// <summary>
/// The full-text tokens of sidecars and of match_all(): runs of letters and digits, lowercased (<c>xyzzy-42</c> is
/// <c>xyzzy</c> and <c>42</c>; <c>/api/v1/orders</c> is <c>api</c>, <c>v1</c>, <c>orders</c>), at most
/// <see cref="MaxLength"/> chars (longer runs are split). Every word is kept (no stop words). Tokenized here
/// rather than by a Lucene analyzer: a row's text is scanned once over spans, ASCII without lookups, which
/// measured several times cheaper than CharTokenizer + LowerCaseFilter on log text.
/// </summary>
public static class TextTokens
{
    public const int MaxLength = 255;

    public static bool IsTokenChar(char c) => c < 128 ? char.IsAsciiLetterOrDigit(c) : char.IsLetterOrDigit(c);

    /// <summary>The tokens of <paramref name="text"/>, as strings (for a query's few words).</summary>
    public static List<string> Of(string text)
    {
        var row = new RowTokens();
        row.Add(text);
        return row.ToStrings();
    }

    /// <summary>The tokens of one row's text fields, lowercased into one reusable buffer.</summary>
    public sealed class RowTokens
    {
        private char[] _chars = new char[4096];
        private readonly List<(int Start, int Length)> _tokens = [];
        private int _used;

        public int Count => _tokens.Count;

        public void Clear()
        {
            _tokens.Clear();
            _used = 0;
        }

        public void Add(ReadOnlySpan<char> text)
        {
            var i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && !IsTokenChar(text[i])) i++;
                var start = i;
                while (i < text.Length && IsTokenChar(text[i]) && i - start < MaxLength) i++;
                if (i > start) Append(text[start..i]);
            }
        }

        /// <summary>UTF-8 text, tokenized as the same text in a string would be (a rune outside the BMP is two
        /// surrogates there, never part of a token; invalid bytes are U+FFFD).</summary>
        public void Add(ReadOnlySpan<byte> utf8)
        {
            var start = -1;
            for (var i = 0; i < utf8.Length;)
            {
                char c;
                bool token;
                var b = utf8[i];
                if (b < 0x80)
                {
                    c = (char)b;
                    token = char.IsAsciiLetterOrDigit(c);
                    if (char.IsAsciiLetterUpper(c)) c = (char)(c | 0x20);
                    i++;
                }
                else
                {
                    System.Text.Rune.DecodeFromUtf8(utf8[i..], out var rune, out var size);
                    c = rune.IsBmp ? (char)rune.Value : '\0';
                    token = rune.IsBmp && char.IsLetterOrDigit(c);
                    if (token) c = char.ToLowerInvariant(c);
                    i += size;
                }
                if (start >= 0 && (!token || _used - start == MaxLength))
                {
                    _tokens.Add((start, _used - start));
                    start = -1;
                }
                if (!token) continue;
                if (_used == _chars.Length) Array.Resize(ref _chars, _chars.Length * 2);
                if (start < 0) start = _used;
                _chars[_used++] = c;
            }
            if (start >= 0) _tokens.Add((start, _used - start));
        }

        private void Append(ReadOnlySpan<char> token)
        {
            if (_used + token.Length > _chars.Length) Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _used + token.Length));
            var dest = _chars.AsSpan(_used, token.Length);
            token.ToLowerInvariant(dest);
            _tokens.Add((_used, token.Length));
            _used += token.Length;
        }

        public ReadOnlySpan<char> this[int i] => _chars.AsSpan(_tokens[i].Start, _tokens[i].Length);

        internal void CopyTo(int i, ICharTermAttribute term) => term.CopyBuffer(_chars, _tokens[i].Start, _tokens[i].Length);

        public List<string> ToStrings() => Enumerable.Range(0, Count).Select(i => new string(this[i])).ToList();
    }

    /// <summary>A row's tokens as Lucene's token stream (the field is indexed as given, no analyzer).</summary>
    internal sealed class Stream : TokenStream
    {
        private readonly ICharTermAttribute _term;
        private RowTokens _row = new();
        private int _next;

        public Stream() => _term = AddAttribute<ICharTermAttribute>();

        public void Reset(RowTokens row)
        {
            _row = row;
            _next = 0;
        }

        public override bool IncrementToken()
        {
            if (_next >= _row.Count) return false;
            ClearAttributes();
            _row.CopyTo(_next++, _term);
            return true;
        }

        public override void Reset()
        {
            base.Reset();
            _next = 0;
        }
    }
}
