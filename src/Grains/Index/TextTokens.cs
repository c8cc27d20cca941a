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

        /// <summary>A query's text: tokenized as its UTF-8, like every value the sidecars index.</summary>
        public void Add(string text) => Add(System.Text.Encoding.UTF8.GetBytes(text));

        /// <summary>UTF-8 text. A letter or digit is a char of the BMP for which char.IsLetterOrDigit holds (a rune
        /// outside the BMP, two surrogates in a string, is never part of a token; invalid bytes are U+FFFD).</summary>
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
