using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Wal;

/// <summary>
/// One WAL entry: <c>[magic "MSLW"][u32 payload length][u32 crc32 of seq+payload][u64 seq][payload]</c>. The
/// payload is the batch: count, time range, original size, its field list, then the columns
/// (<see cref="BatchPayload"/>), then, on a request's last batch with an idempotency key, that key and the
/// request's receipt (<c>[u16 key length][key][u32 receipt length][receipt]</c>: the key is durable exactly when
/// the records are). The magic lets a reader find the next entry after a damaged one. Entries written
/// before it existed (<c>[u32 length][u32 crc][u64 seq][payload]</c>, a length never equal to the magic, which
/// is over <see cref="MaxPayload"/>) are still read.
/// </summary>
public static class WalEntryCodec
{
    public const int HeaderSize = 20;
    private const int OldHeaderSize = 16;
    public const int MaxPayload = 256 << 20;
    public static ReadOnlySpan<byte> Magic => "MSLW"u8;

    public static int EncodedSize(IngestBatch b)
    {
        var size = HeaderSize + 4 + 8 + 8 + 8 + 4 + 4;
        foreach (var n in b.FieldNames) size += 1 + 2 + Encoding.UTF8.GetByteCount(n);
        if (KeepsKey(b)) size += 2 + Encoding.UTF8.GetByteCount(b.IdempotencyKey!) + 4 + b.Receipt!.Length;
        return size + b.Payload.Length;
    }

    /// <summary>Writes the entry at the start of <paramref name="dest"/>; returns its length. The writer keeps
    /// entries within <see cref="MaxPayload"/>, the reader's cap.</summary>
    public static int Encode(long seq, IngestBatch b, Span<byte> dest)
    {
        Magic.CopyTo(dest);
        var p = dest[HeaderSize..];
        var o = 0;
        BinaryPrimitives.WriteInt32LittleEndian(p[o..], b.Count); o += 4;
        BinaryPrimitives.WriteInt64LittleEndian(p[o..], b.MinTimestamp); o += 8;
        BinaryPrimitives.WriteInt64LittleEndian(p[o..], b.MaxTimestamp); o += 8;
        BinaryPrimitives.WriteInt64LittleEndian(p[o..], b.OriginalBytes); o += 8;
        BinaryPrimitives.WriteInt32LittleEndian(p[o..], b.FieldNames.Length); o += 4;
        for (var i = 0; i < b.FieldNames.Length; i++)
        {
            p[o++] = (byte)b.FieldKinds[i];
            var n = Encoding.UTF8.GetBytes(b.FieldNames[i], p[(o + 2)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(p[o..], (ushort)n);
            o += 2 + n;
        }
        BinaryPrimitives.WriteInt32LittleEndian(p[o..], b.Payload.Length); o += 4;
        b.Payload.CopyTo(p[o..]);
        o += b.Payload.Length;
        if (KeepsKey(b))
        {
            var n = Encoding.UTF8.GetBytes(b.IdempotencyKey, p[(o + 2)..]);
            BinaryPrimitives.WriteUInt16LittleEndian(p[o..], (ushort)n);
            o += 2 + n;
            BinaryPrimitives.WriteInt32LittleEndian(p[o..], b.Receipt!.Length); o += 4;
            b.Receipt.CopyTo(p[o..]);
            o += b.Receipt.Length;
        }

        BinaryPrimitives.WriteInt32LittleEndian(dest[4..], o);
        BinaryPrimitives.WriteInt64LittleEndian(dest[12..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], Checksum(dest.Slice(12, 8), p[..o]));
        return HeaderSize + o;
    }

    private static bool KeepsKey(IngestBatch b) => b is { IdempotencyKey: not null, Receipt: not null };

    private static uint Checksum(ReadOnlySpan<byte> seq, ReadOnlySpan<byte> payload)
    {
        var crc = new Crc32();
        crc.Append(seq);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }

    public enum ReadStatus { Ok, End, Torn }

    /// <summary>Reads the entry at the start of <paramref name="src"/>. Torn: truncated or failing its checksum.</summary>
    public static ReadStatus TryDecode(ReadOnlySpan<byte> src, out long seq, out IngestBatch? batch, out int length)
    {
        seq = 0;
        batch = null;
        length = 0;
        if (src.IsEmpty) return ReadStatus.End;
        // The old layout is the new one without the magic: the same fields from 4 bytes earlier.
        var at = src.StartsWith(Magic) ? 4 : 0;
        var header = at + OldHeaderSize;
        if (src.Length < header) return ReadStatus.Torn;
        var payloadLen = BinaryPrimitives.ReadInt32LittleEndian(src[at..]);
        if (payloadLen <= 0 || payloadLen > MaxPayload || src.Length < header + payloadLen) return ReadStatus.Torn;
        var p = src.Slice(header, payloadLen);
        if (BinaryPrimitives.ReadUInt32LittleEndian(src[(at + 4)..]) != Checksum(src.Slice(at + 8, 8), p))
            return ReadStatus.Torn;
        seq = BinaryPrimitives.ReadInt64LittleEndian(src[(at + 8)..]);
        try
        {
            var o = 0;
            var count = BinaryPrimitives.ReadInt32LittleEndian(p[o..]); o += 4;
            var min = BinaryPrimitives.ReadInt64LittleEndian(p[o..]); o += 8;
            var max = BinaryPrimitives.ReadInt64LittleEndian(p[o..]); o += 8;
            var original = BinaryPrimitives.ReadInt64LittleEndian(p[o..]); o += 8;
            var nFields = BinaryPrimitives.ReadInt32LittleEndian(p[o..]); o += 4;
            var names = new string[nFields];
            var kinds = new FieldKind[nFields];
            for (var i = 0; i < nFields; i++)
            {
                kinds[i] = (FieldKind)p[o++];
                var n = BinaryPrimitives.ReadUInt16LittleEndian(p[o..]); o += 2;
                names[i] = Encoding.UTF8.GetString(p.Slice(o, n)); o += n;
            }
            var recLen = BinaryPrimitives.ReadInt32LittleEndian(p[o..]); o += 4;
            var payload = p.Slice(o, recLen).ToArray();
            o += recLen;
            string? key = null;
            byte[]? receipt = null;
            if (o < p.Length)
            {
                var n = BinaryPrimitives.ReadUInt16LittleEndian(p[o..]); o += 2;
                key = Encoding.UTF8.GetString(p.Slice(o, n)); o += n;
                var r = BinaryPrimitives.ReadInt32LittleEndian(p[o..]); o += 4;
                receipt = p.Slice(o, r).ToArray();
            }
            batch = new IngestBatch
            {
                Payload = payload, Count = count, FieldNames = names, FieldKinds = kinds,
                MinTimestamp = min, MaxTimestamp = max, OriginalBytes = original,
                IdempotencyKey = key, Receipt = receipt,
            };
            length = header + payloadLen;
            return ReadStatus.Ok;
        }
        catch (ArgumentOutOfRangeException)
        {
            return ReadStatus.Torn; // a checksum collision on garbage; treat as torn
        }
    }
}
