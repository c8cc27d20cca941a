using System.IO.Hashing;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// The text of one column as UTF-8 in a few large byte arrays; each value is a slice of them, so a flush of
/// millions of values allocates no string per value (the GC would otherwise promote them all), and text goes
/// from the JSON to Arrow without transcoding. While a column has at most <see cref="MaxDistinct"/> distinct
/// values, equal values share one slice (a level or service name is stored once per flush, not once per row);
/// past that, the column is taken for high-cardinality and values are copied without a lookup.
/// </summary>
public sealed class TextColumnBuffer
{
    public const int MaxDistinct = 4096;
    private const int ChunkBytes = 1 << 20;
    private readonly Dictionary<ulong, ReadOnlyMemory<byte>> _distinct = [];
    private byte[] _chunk = new byte[ChunkBytes];
    private int _used;

    private bool _overflowed;

    /// <summary>An unescaped JSON string value, or the spelling of a number or boolean.</summary>
    public ReadOnlyMemory<byte> FromUtf8(ReadOnlySpan<byte> raw)
    {
        if (!_overflowed)
        {
            var hash = XxHash3.HashToUInt64(raw);
            if (_distinct.TryGetValue(hash, out var hit) && raw.SequenceEqual(hit.Span)) return hit;
            var value = Copy(raw);
            if (_distinct.Count >= MaxDistinct) _overflowed = true;
            else _distinct.TryAdd(hash, value);
            return value;
        }
        return Copy(raw);
    }

    /// <summary>A JSON string with escapes, unescaped into the buffer (never shared).</summary>
    public ReadOnlyMemory<byte> FromEscaped(ref System.Text.Json.Utf8JsonReader reader)
    {
        var dest = Reserve(reader.ValueSpan.Length); // unescaping only shortens
        var n = reader.CopyString(dest.Span);
        _used -= dest.Length - n;
        return dest[..n];
    }

    private ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> raw)
    {
        var dest = Reserve(raw.Length);
        raw.CopyTo(dest.Span);
        return dest;
    }

    private Memory<byte> Reserve(int bytes)
    {
        if (_used + bytes > _chunk.Length)
        {
            _chunk = new byte[Math.Max(ChunkBytes, bytes)];
            _used = 0;
        }
        var m = _chunk.AsMemory(_used, bytes);
        _used += bytes;
        return m;
    }
}
