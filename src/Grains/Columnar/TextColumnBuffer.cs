using System.IO.Hashing;
using System.Text;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// The decoded text of one column in a few large char arrays; each value is a slice of them, so a flush of
/// millions of values allocates no string per value (the GC would otherwise promote them all). While a column
/// has at most <see cref="MaxDistinct"/> distinct values, equal values share one slice and the column is
/// low-cardinality (dictionary-encoded in Parquet).
/// </summary>
public sealed class TextColumnBuffer
{
    public const int MaxDistinct = 4096;
    private const int ChunkChars = 1 << 20;
    private readonly Dictionary<ulong, (byte[] Raw, ReadOnlyMemory<char> Value)> _distinct = [];
    private char[] _chunk = new char[ChunkChars];
    private int _used;

    public bool Overflowed { get; private set; }

    /// <summary>An unescaped JSON string value (UTF-8).</summary>
    public ReadOnlyMemory<char> FromUtf8(ReadOnlySpan<byte> raw)
    {
        if (!Overflowed)
        {
            var hash = XxHash3.HashToUInt64(raw);
            if (_distinct.TryGetValue(hash, out var hit) && raw.SequenceEqual(hit.Raw)) return hit.Value;
            var value = Decode(raw);
            if (_distinct.Count >= MaxDistinct) Overflowed = true;
            else _distinct.TryAdd(hash, (raw.ToArray(), value));
            return value;
        }
        return Decode(raw);
    }

    /// <summary>A JSON string with escapes, unescaped into the buffer (never shared).</summary>
    public ReadOnlyMemory<char> FromEscaped(ref System.Text.Json.Utf8JsonReader reader)
    {
        var dest = Reserve(reader.ValueSpan.Length); // unescaping only shortens
        var n = reader.CopyString(dest.Span);
        _used -= dest.Length - n;
        return dest[..n];
    }

    private Memory<char> Reserve(int maxChars)
    {
        if (_used + maxChars > _chunk.Length)
        {
            _chunk = new char[Math.Max(ChunkChars, maxChars)];
            _used = 0;
        }
        var m = _chunk.AsMemory(_used, maxChars);
        _used += maxChars;
        return m;
    }

    private ReadOnlyMemory<char> Decode(ReadOnlySpan<byte> raw)
    {
        var dest = Reserve(raw.Length); // UTF-8 never has fewer bytes than UTF-16 chars
        var n = Encoding.UTF8.GetChars(raw, dest.Span);
        _used -= raw.Length - n;
        return dest[..n];
    }
}
