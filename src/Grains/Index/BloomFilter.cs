using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace MoleSignal.Grains.Index;

/// <summary>
/// A per-file bloom filter of one id field (trace_id ...): "absent" is certain, "present" is likely.
/// A filter hashes a value's UTF-8 once (XxHash128, two 64-bit halves) and maps its k probes onto the bits by
/// multiply-shift. Filters of the first format (flag clear in the stored hash count) hashed the value's UTF-16 and
/// mapped probes by a 64-bit modulo (seven divisions a value): they are still read as written.
/// </summary>
public sealed class BloomFilter
{
    private const int Utf8Format = 0x100; // stored with the hash count

    private readonly ulong[] _bits;
    private readonly bool _utf8;

    public BloomFilter(long expectedItems, double falsePositiveRate = 0.01)
    {
        var n = Math.Max(1, expectedItems);
        var m = (long)Math.Ceiling(-n * Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2)));
        m = Math.Max(64, (m + 63) / 64 * 64);
        Bits = m;
        Hashes = (int)Math.Clamp(Math.Round(m / (double)n * Math.Log(2)), 1, 10);
        _bits = new ulong[m / 64];
        _utf8 = true;
    }

    private BloomFilter(int hashes, bool utf8, ulong[] bits)
    {
        Hashes = hashes;
        _utf8 = utf8;
        _bits = bits;
        Bits = bits.LongLength * 64;
    }

    public long Bits { get; }

    public int Hashes { get; }

    /// <summary>A UTF-8 value (how the flush holds text).</summary>
    public void Add(ReadOnlySpan<byte> utf8)
    {
        var (h1, h2) = Hash(utf8);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = Probe(h1 + (ulong)i * h2);
            _bits[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    public void Add(string value) => Add(Encoding.UTF8.GetBytes(value));

    public bool MightContain(string value)
    {
        ulong h1, h2;
        if (_utf8) (h1, h2) = Hash(Encoding.UTF8.GetBytes(value));
        else
        {
            var h = XxHash128.HashToUInt128(System.Runtime.InteropServices.MemoryMarshal.AsBytes(value.AsSpan()));
            (h1, h2) = ((ulong)(h >> 64), (ulong)h | 1);
        }
        for (var i = 0; i < Hashes; i++)
        {
            var bit = _utf8 ? Probe(h1 + (ulong)i * h2) : (long)((h1 + (ulong)i * h2) % (ulong)Bits);
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0) return false;
        }
        return true;
    }

    private static (ulong, ulong) Hash(ReadOnlySpan<byte> utf8)
    {
        var h = XxHash128.HashToUInt128(utf8);
        return ((ulong)(h >> 64), (ulong)h | 1);
    }

    /// <summary>A 64-bit hash onto [0, Bits): the high half of their product.</summary>
    private long Probe(ulong hash) => (long)Math.BigMul(hash, (ulong)Bits, out _);

    public byte[] ToBytes()
    {
        var bytes = new byte[4 + _bits.Length * 8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Hashes | (_utf8 ? Utf8Format : 0));
        for (var i = 0; i < _bits.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(4 + i * 8), _bits[i]);
        return bytes;
    }

    public static BloomFilter FromBytes(ReadOnlySpan<byte> bytes)
    {
        var stored = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var bits = new ulong[(bytes.Length - 4) / 8];
        for (var i = 0; i < bits.Length; i++) bits[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(4 + i * 8)..]);
        return new BloomFilter(stored & 0xFF, (stored & Utf8Format) != 0, bits);
    }
}
