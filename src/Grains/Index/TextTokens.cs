using System.Numerics;
using System.Runtime.Intrinsics;
using System.Text;

namespace MoleSignal.Grains.Index;

/// <summary>
/// The full-text tokens of sidecars and of match_all(): runs of letters and digits, lowercased (<c>xyzzy-42</c> is
/// <c>xyzzy</c> and <c>42</c>; <c>/api/v1/orders</c> is <c>api</c>, <c>v1</c>, <c>orders</c>), at most
/// <see cref="MaxLength"/> chars (longer runs are split). Every word is kept (no stop words). Tokens are UTF-8, the
/// bytes Lucene stores as terms: a row's text is scanned once over its UTF-8 spans, ASCII without lookups, and
/// no token goes through UTF-16.
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

    /// <summary>The tokens of one row's text fields, lowercased into one reusable UTF-8 buffer.</summary>
    public sealed class RowTokens
    {
        private byte[] _bytes = new byte[4096];
        private readonly List<(int Start, int Length)> _tokens = [];
        private int _used;

        public int Count => _tokens.Count;

        public void Clear()
        {
            _tokens.Clear();
            _used = 0;
        }

        /// <summary>A query's text: tokenized as its UTF-8, like every value the sidecars index.</summary>
        public void Add(string text) => Add(Encoding.UTF8.GetBytes(text));

        /// <summary>UTF-8 text. A letter or digit is a char of the BMP for which char.IsLetterOrDigit holds (a rune
        /// outside the BMP, two surrogates in a string, is never part of a token; invalid bytes are U+FFFD).</summary>
        public void Add(ReadOnlySpan<byte> utf8)
        {
            // The worst case grows each byte to three (an invalid byte is U+FFFD; lowercase stays in the BMP).
            if (_bytes.Length - _used < utf8.Length * 3) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + utf8.Length * 3));
            if (Vector256.IsHardwareAccelerated && Ascii.IsValid(utf8)) AddAscii(utf8);
            else AddRunes(utf8);
        }

        /// <summary>
        /// ASCII text, 64 bytes at a time: lowercased whole into the buffer, then its runs of letters and digits
        /// read off a bit mask (a token costs a few instructions, not a few per byte).
        /// </summary>
        private void AddAscii(ReadOnlySpan<byte> text)
        {
            var n = text.Length;
            var lower = _bytes.AsSpan(_used, n);
            Ascii.ToLower(text, lower, out _);
            var start = -1;
            for (var block = 0; block < n; block += 64)
            {
                var mask = LetterOrDigitMask(lower, block);
                var end = Math.Min(64, n - block);
                var pos = 0;
                while (pos < end)
                {
                    if (start < 0)
                    {
                        var rest = mask >> pos;
                        if (rest == 0) break;
                        pos += BitOperations.TrailingZeroCount(rest);
                        start = block + pos;
                    }
                    else
                    {
                        var rest = ~mask >> pos; // bits past the text are 0 in the mask: a run ends there
                        if (rest == 0) break; // the run goes on into the next block
                        pos += BitOperations.TrailingZeroCount(rest);
                        Run(start, block + pos);
                        start = -1;
                    }
                }
            }
            if (start >= 0) Run(start, n);
            _used += n;
        }

        private void Run(int from, int to)
        {
            for (; from < to; from += MaxLength) _tokens.Add((_used + from, Math.Min(MaxLength, to - from)));
        }

        /// <summary>Bit i: whether lowercased ASCII byte <c>block + i</c> is a letter or digit (0 past the end).</summary>
        private static ulong LetterOrDigitMask(ReadOnlySpan<byte> lower, int block)
        {
            var left = lower.Length - block;
            if (left >= 64)
                return Mask32(Vector256.Create(lower.Slice(block, 32))) | (ulong)Mask32(Vector256.Create(lower.Slice(block + 32, 32))) << 32;
            Span<byte> tail = stackalloc byte[64];
            tail.Clear();
            lower.Slice(block, left).CopyTo(tail);
            return Mask32(Vector256.Create(tail[..32])) | (ulong)Mask32(Vector256.Create(tail.Slice(32, 32))) << 32;
        }

        private static uint Mask32(Vector256<byte> v)
        {
            var digit = Vector256.LessThan(v - Vector256.Create((byte)'0'), Vector256.Create((byte)10));
            var letter = Vector256.LessThan(v - Vector256.Create((byte)'a'), Vector256.Create((byte)26));
            return (digit | letter).ExtractMostSignificantBits();
        }

        private void AddRunes(ReadOnlySpan<byte> utf8)
        {
            var start = -1;
            var chars = 0;
            for (var i = 0; i < utf8.Length;)
            {
                var b = utf8[i];
                if (b < 0x80)
                {
                    i++;
                    if (char.IsAsciiLetterOrDigit((char)b))
                    {
                        if (chars == MaxLength) End(ref start, ref chars);
                        if (start < 0) start = _used;
                        _bytes[_used++] = char.IsAsciiLetterUpper((char)b) ? (byte)(b | 0x20) : b;
                        chars++;
                    }
                    else if (start >= 0) End(ref start, ref chars);
                    continue;
                }
                Rune.DecodeFromUtf8(utf8[i..], out var rune, out var size);
                i += size;
                if (rune.IsBmp && char.IsLetterOrDigit((char)rune.Value))
                {
                    if (chars == MaxLength) End(ref start, ref chars);
                    if (start < 0) start = _used;
                    _used += new Rune(char.ToLowerInvariant((char)rune.Value)).EncodeToUtf8(_bytes.AsSpan(_used));
                    chars++;
                }
                else if (start >= 0) End(ref start, ref chars);
            }
            if (start >= 0) End(ref start, ref chars);
        }

        private void End(ref int start, ref int chars)
        {
            _tokens.Add((start, _used - start));
            start = -1;
            chars = 0;
        }

        /// <summary>Token <paramref name="i"/> as UTF-8.</summary>
        public ReadOnlySpan<byte> this[int i] => _bytes.AsSpan(_tokens[i].Start, _tokens[i].Length);

        public List<string> ToStrings() => Enumerable.Range(0, Count).Select(i => Encoding.UTF8.GetString(this[i])).ToList();
    }
}
