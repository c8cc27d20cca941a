using System.Diagnostics;
using System.Text;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Tests.Wal;

/// <summary>Damage and faults: a bad entry hides nothing after it; a full disk breaks a WAL only while it lasts.</summary>
public sealed class WalFaultTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static readonly StreamKey Key = new("default", "logs", "app");

    public void Dispose() => _dir.Dispose();

    private static IngestBatch Batch(int i, int size = 100) => StreamWalTests.Batch(i, size);

    private static List<long> Replay(string walDir, out WalReplayReport report)
    {
        var seqs = new List<long>();
        var dir = StreamWal.DirectoryFor(walDir, Key);
        report = WalReader.Replay(StreamWal.ListSegments(dir), (s, _) => seqs.Add(s));
        return seqs;
    }

    [Fact]
    public async Task A_torn_tail_is_cut_at_the_last_good_entry()
    {
        var settings = new WalSettings(_dir.Path, 1 << 20, FlushStrategy.Batch, SyncLevel.Data);
        var wal = StreamWal.Open(settings, Key, (_, _) => { }, out _);
        for (var i = 1; i <= 3; i++) await wal.AppendAsync(i, Batch(i));
        await wal.DisposeAsync();
        var path = StreamWal.ListSegments(StreamWal.DirectoryFor(_dir.Path, Key)).Single().Path;
        var whole = new FileInfo(path).Length;
        using (var fs = new FileStream(path, FileMode.Open)) fs.SetLength(whole - 10);
        var seqs = Replay(_dir.Path, out var report);
        Assert.Equal([1L, 2], seqs);
        Assert.Equal(whole - 10 - whole / 3 * 2, report.TornBytesCut);
    }

    /// <summary>A size-limited tmpfs holds the WAL: the disk really fills, then is freed.</summary>
    [Fact]
    public async Task A_full_disk_fails_appends_until_space_returns_and_unacknowledged_entries_never_replay()
    {
        var mount = Path.Combine(_dir.Path, "tmpfs");
        Directory.CreateDirectory(mount);
        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount);
        try
        {
            var filler = Path.Combine(mount, "filler");
            File.WriteAllBytes(filler, new byte[600 << 10]);
            var settings = new WalSettings(mount, 64L << 20, FlushStrategy.Batch, SyncLevel.Data);
            var wal = StreamWal.Open(settings, Key, (_, _) => { }, out _);
            var acked = new List<long>();
            long seq = 0;
            Exception? failure = null;
            while (failure is null && seq < 1000)
            {
                try
                {
                    await wal.AppendAsync(++seq, Batch((int)seq, 20_000));
                    acked.Add(seq);
                }
                catch (IOException e)
                {
                    failure = e;
                }
            }
            Assert.NotNull(failure);
            Assert.True(acked.Count > 5, $"{acked.Count} entries fit");
            // Still full: the next append fails too, and the WAL keeps answering.
            await Assert.ThrowsAsync<IOException>(() => wal.AppendAsync(++seq, Batch((int)seq, 20_000)));

            // Space comes back: the same WAL takes the next append, without a restart.
            File.Delete(filler);
            var after = ++seq;
            await wal.AppendAsync(after, Batch((int)after, 20_000));
            acked.Add(after);
            await wal.DisposeAsync();

            // Exactly the acknowledged entries replay: the failed ones were cut off when the WAL reopened.
            Assert.Equal(acked, Replay(mount, out var report));
            Assert.Equal(0, report.CorruptBytesSkipped);
        }
        finally
        {
            Run("umount", "-l", mount);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
    }
}
