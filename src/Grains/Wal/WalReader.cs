using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Wal;

/// <param name="CorruptBytesSkipped">Damaged bytes between good entries, passed over to reach the entries after
/// them.</param>
public sealed record WalReplayReport(
    int Segments, long Entries, long Bytes, long LastSeq, long TornBytesCut, long CorruptBytesSkipped = 0);

/// <summary>
/// Reads segments in order. A damaged entry does not hide the entries after it: the reader looks for the next
/// entry magic that starts a good entry (checksum and a later seq) and goes on from there. Damage with no good
/// entry after it is a torn tail (a write the crash interrupted, never acknowledged): it is cut, so later
/// appends never follow garbage.
/// </summary>
public static class WalReader
{
    public static WalReplayReport Replay(List<(long FirstSeq, string Path)> segments, Action<long, IngestBatch> onEntry)
    {
        long entries = 0, bytes = 0, lastSeq = 0, cut = 0, skipped = 0;
        foreach (var (_, path) in segments)
        {
            var data = File.ReadAllBytes(path);
            var offset = 0;
            while (true)
            {
                var status = WalEntryCodec.TryDecode(data.AsSpan(offset), out var seq, out var batch, out var length);
                if (status == WalEntryCodec.ReadStatus.End) break;
                if (status == WalEntryCodec.ReadStatus.Torn)
                {
                    var next = NextGoodEntry(data, offset + 1, lastSeq);
                    if (next > 0)
                    {
                        skipped += next - offset;
                        offset = next;
                        continue;
                    }
                    cut += data.Length - offset;
                    using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
                    fs.SetLength(offset);
                    fs.Flush(flushToDisk: true);
                    break;
                }
                onEntry(seq, batch!);
                entries++;
                lastSeq = Math.Max(lastSeq, seq);
                offset += length;
                bytes += length;
            }
        }
        return new WalReplayReport(segments.Count, entries, bytes, lastSeq, cut, skipped);
    }

    /// <summary>The offset of the next good entry at or after <paramref name="from"/>, or -1.</summary>
    private static int NextGoodEntry(byte[] data, int from, long afterSeq)
    {
        while (from < data.Length)
        {
            var hit = data.AsSpan(from).IndexOf(WalEntryCodec.Magic);
            if (hit < 0) return -1;
            var at = from + hit;
            if (WalEntryCodec.TryDecode(data.AsSpan(at), out var seq, out _, out _) == WalEntryCodec.ReadStatus.Ok
                && seq > afterSeq)
                return at;
            from = at + 1;
        }
        return -1;
    }
}
