using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Wal;

public sealed record WalReplayReport(int Segments, long Entries, long Bytes, long LastSeq, long TornBytesCut);

/// <summary>Reads segments in order; a torn or corrupt tail is cut at the last good entry.</summary>
public static class WalReader
{
    public static WalReplayReport Replay(List<(long FirstSeq, string Path)> segments, Action<long, IngestBatch> onEntry)
    {
        long entries = 0, bytes = 0, lastSeq = 0, cut = 0;
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
                    // Everything from here on was never acknowledged as durable (or is damaged): cut it so
                    // later appends never follow garbage.
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
        return new WalReplayReport(segments.Count, entries, bytes, lastSeq, cut);
    }
}
