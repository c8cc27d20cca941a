using System.Buffers.Binary;
using System.IO.Hashing;

namespace MoleSignal.Grains.Index;

/// <summary>A per-file bloom filter of one id field (trace_id ...): "absent" is certain, "present" is likely.</summary>
public sealed class BloomFilter
{
    private readonly ulong[] _bits;

    public BloomFilter(long expectedItems, double falsePositiveRate = 0.01)
    {
        var n = Math.Max(1, expectedItems);
        var m = (long)Math.Ceiling(-n * Math.Log(falsePositiveRate) / (Math.Log(2) * Math.Log(2)));
        m = Math.Max(64, (m + 63) / 64 * 64);
        Bits = m;
        Hashes = (int)Math.Clamp(Math.Round(m / (double)n * Math.Log(2)), 1, 10);
        _bits = new ulong[m / 64];
    }

    private BloomFilter(int hashes, ulong[] bits)
    {
        Hashes = hashes;
        _bits = bits;
        Bits = bits.LongLength * 64;
    }

    public long Bits { get; }

    public int Hashes { get; }

    public void Add(ReadOnlySpan<char> value)
    {
        var (h1, h2) = Hash(value);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = (long)((h1 + (ulong)i * h2) % (ulong)Bits);
            _bits[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    /// <summary>A UTF-8 value, hashed as its .NET text (ids are short: transcoded on the stack).</summary>
    public void Add(ReadOnlySpan<byte> utf8)
    {
        var chars = utf8.Length <= 512 ? stackalloc char[utf8.Length] : new char[utf8.Length];
        Add(chars[..System.Text.Encoding.UTF8.GetChars(utf8, chars)]);
    }

    public bool MightContain(ReadOnlySpan<char> value)
    {
        var (h1, h2) = Hash(value);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = (long)((h1 + (ulong)i * h2) % (ulong)Bits);
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0) return false;
        }
        return true;
    }

    // Hashes UTF-16 code units, as every sidecar written so far does; the flush, holding UTF-8, transcodes its ids (short) on the stack.
    private static (ulong, ulong) Hash(ReadOnlySpan<char> value)
    {
        var h = XxHash128.HashToUInt128(System.Runtime.InteropServices.MemoryMarshal.AsBytes(value));
        return ((ulong)(h >> 64), (ulong)h | 1);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[4 + _bits.Length * 8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Hashes);
        for (var i = 0; i < _bits.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(4 + i * 8), _bits[i]);
        return bytes;
    }

    public static BloomFilter FromBytes(ReadOnlySpan<byte> bytes)
    {
        var hashes = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var bits = new ulong[(bytes.Length - 4) / 8];
        for (var i = 0; i < bits.Length; i++) bits[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(4 + i * 8)..]);
        return new BloomFilter(hashes, bits);
    }
}
