using System.Text;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Tests.Wal;

public sealed class StreamWalTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly StreamKey Key = new("default", "logs", "app");

    private WalSettings Settings(FlushStrategy strategy = FlushStrategy.Batch, long segmentBytes = 1 << 20) =>
        new(_dir.Path, segmentBytes, strategy, SyncLevel.Data);

    internal static IngestBatch Batch(int i, int size = 100) => new()
    {
        Payload = Payload(i, size),
        Count = 1,
        FieldNames = ["_timestamp", "m"],
        FieldKinds = [FieldKind.Int64, FieldKind.Utf8],
        MinTimestamp = i,
        MaxTimestamp = i,
        OriginalBytes = size + 20,
    };

    private static byte[] Payload(int i, int size)
    {
        using var writer = new BatchPayload.Writer();
        writer.Add(1, "m"u8, Encoding.UTF8.GetBytes(new string('x', size)));
        writer.EndRow(i);
        return writer.ToPayload();
    }

    private List<(long Seq, IngestBatch Batch)> Reopen(WalSettings settings, out WalReplayReport report, out StreamWal wal)
    {
        var seen = new List<(long, IngestBatch)>();
        wal = StreamWal.Open(settings, Key, (s, b) => seen.Add((s, b)), out report);
        return seen;
    }

    [Theory]
    [InlineData(FlushStrategy.Batch)]
    [InlineData(FlushStrategy.EveryWrite)]
    [InlineData(FlushStrategy.None)]
    public async Task Appends_replay_in_order_with_their_content(FlushStrategy strategy)
    {
        var settings = Settings(strategy, segmentBytes: 4096);
        var wal = StreamWal.Open(settings, Key, (_, _) => throw new InvalidOperationException("empty WAL replayed something"), out _);
        await Task.WhenAll(Enumerable.Range(1, 200).Select(i => wal.AppendAsync(i, Batch(i))));
        Assert.True(wal.SegmentCount > 1, "small segments roll");
        await wal.DisposeAsync();

        var seen = Reopen(settings, out var report, out var again);
        await again.DisposeAsync();
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), seen.Select(s => s.Seq));
        Assert.Equal(200, report.LastSeq);
        Assert.Equal(0, report.TornBytesCut);
        var b = seen[41].Batch;
        Assert.Equal(Batch(42).Payload, b.Payload);
        Assert.Equal(["_timestamp", "m"], b.FieldNames);
        Assert.Equal([FieldKind.Int64, FieldKind.Utf8], b.FieldKinds);
        Assert.Equal(42, b.MinTimestamp);
        Assert.Equal(120, b.OriginalBytes);
    }

    [Fact]
    public async Task A_torn_tail_is_cut_at_the_last_good_entry_and_appends_continue_after_it()
    {
        var settings = Settings();
        var wal = StreamWal.Open(settings, Key, (_, _) => { }, out _);
        for (var i = 1; i <= 10; i++) await wal.AppendAsync(i, Batch(i));
        await wal.DisposeAsync();
        var segment = StreamWal.ListSegments(wal.Directory).Single().Path;
        var goodLength = new FileInfo(segment).Length;
        // A crash mid-write: half an entry, then garbage.
        var extra = new byte[300];
        var encoded = new byte[WalEntryCodec.EncodedSize(Batch(11))];
        WalEntryCodec.Encode(11, Batch(11), encoded);
        Array.Copy(encoded, extra, 100);
        await using (var fs = new FileStream(segment, FileMode.Append)) fs.Write(extra);

        var seen = Reopen(settings, out var report, out wal);
        Assert.Equal(10, seen.Count);
        Assert.Equal(300, report.TornBytesCut);
        Assert.Equal(goodLength, new FileInfo(segment).Length);
        await wal.AppendAsync(11, Batch(11));
        await wal.DisposeAsync();
        seen = Reopen(settings, out report, out wal);
        await wal.DisposeAsync();
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), seen.Select(s => s.Seq));
    }

    [Fact]
    public async Task A_flipped_bit_fails_that_entrys_checksum_and_replay_resumes_at_the_next_entry()
    {
        var settings = Settings();
        var wal = StreamWal.Open(settings, Key, (_, _) => { }, out _);
        for (var i = 1; i <= 5; i++) await wal.AppendAsync(i, Batch(i));
        await wal.DisposeAsync();
        var segment = StreamWal.ListSegments(wal.Directory).Single().Path;
        var bytes = await File.ReadAllBytesAsync(segment);
        var entry = bytes.Length / 5;
        bytes[entry * 3 + 40] ^= 0x10; // inside the 4th entry's payload
        await File.WriteAllBytesAsync(segment, bytes);
        var seen = Reopen(settings, out var report, out wal);
        await wal.DisposeAsync();
        Assert.Equal([1L, 2, 3, 5], seen.Select(s => s.Seq));
        Assert.Equal(entry, report.CorruptBytesSkipped);
        Assert.Equal(0, report.TornBytesCut);
        Assert.Equal(bytes.Length, new FileInfo(segment).Length); // nothing after the damage was cut
    }

    [Fact]
    public async Task Truncate_deletes_only_segments_whose_entries_are_all_flushed()
    {
        var settings = Settings(segmentBytes: 1024);
        var wal = StreamWal.Open(settings, Key, (_, _) => { }, out _);
        for (var i = 1; i <= 30; i++) await wal.AppendAsync(i, Batch(i, 200));
        var before = StreamWal.ListSegments(wal.Directory);
        Assert.True(before.Count >= 5);
        var cut = before[2].FirstSeq; // flushed through the first entry of the third segment
        wal.TruncateThrough(cut);
        await wal.AppendAsync(31, Batch(31)); // the truncate is done once a later append is durable
        var after = StreamWal.ListSegments(wal.Directory);
        Assert.Equal(before.Skip(2).Select(s => s.FirstSeq), after.Select(s => s.FirstSeq));
        wal.TruncateThrough(31);
        await wal.DisposeAsync();
        Assert.Empty(StreamWal.ListSegments(wal.Directory));
        var seen = Reopen(settings, out _, out wal);
        await wal.DisposeAsync();
        Assert.Empty(seen);
    }

    [Fact]
    public async Task Concurrent_appends_complete_only_after_being_written()
    {
        var settings = Settings();
        var wal = StreamWal.Open(settings, Key, (_, _) => { }, out _);
        var tasks = Enumerable.Range(1, 500).Select(i => wal.AppendAsync(i, Batch(i))).ToArray();
        await Task.WhenAll(tasks);
        var segment = StreamWal.ListSegments(wal.Directory).Single().Path;
        var written = new FileInfo(segment).Length;
        Assert.Equal(Enumerable.Range(1, 500).Sum(i => (long)WalEntryCodec.EncodedSize(Batch(i))), written);
        await wal.DisposeAsync();
    }

    public void Dispose() => _dir.Dispose();
}
