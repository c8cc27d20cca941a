using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Wal;

/// <summary>
/// The WAL of one stream: segment files <c>{firstSeq:D20}.wal</c> in the stream's directory, written by a single
/// loop that drains every pending append, writes them, and syncs once per drain (group commit) under
/// <c>batch</c>, once per entry under <c>every_write</c>, never under <c>none</c>. An append completes when its
/// entry is durable per the strategy. Entries are written in the order they were enqueued.
/// </summary>
public sealed class StreamWal : IAsyncDisposable
{
    private const int MaxDrainBytes = 64 << 20;
    private readonly WalSettings _settings;
    private readonly Channel<Op> _ops = Channel.CreateUnbounded<Op>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private readonly List<(long FirstSeq, string Path)> _sealed = [];
    private SafeFileHandle? _active;
    private string? _activePath;
    private long _activeFirstSeq;
    private long _activeLength;
    private long _lastWrittenSeq;
    private long _ackedLength; // of the active segment, through the last acknowledged entry
    private long _ackedSeq;
    private Exception? _broken;

    private abstract record Op;
    private sealed record AppendOp(long Seq, IngestBatch Batch, long EnqueuedTicks) : Op
    {
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
    private sealed record TruncateOp(long ThroughSeq) : Op;

    private StreamWal(WalSettings settings, string dir, IEnumerable<(long FirstSeq, string Path)> existing)
    {
        _settings = settings;
        Directory = dir;
        _sealed.AddRange(existing);
        // Run off the grain scheduler: the loop blocks on file I/O.
        _loop = Task.Run(RunAsync);
    }

    public string Directory { get; }

    public static string DirectoryFor(string walDir, StreamKey key) =>
        Path.Combine(Path.GetFullPath(walDir), key.Org, key.Type, key.Stream);

    /// <summary>Segments are in seq order by name.</summary>
    public static List<(long FirstSeq, string Path)> ListSegments(string dir)
    {
        if (!System.IO.Directory.Exists(dir)) return [];
        return System.IO.Directory.EnumerateFiles(dir, "*.wal")
            .Select(p => (Ok: long.TryParse(Path.GetFileNameWithoutExtension(p), out var s), Seq: s, Path: p))
            .Where(x => x.Ok)
            .OrderBy(x => x.Seq)
            .Select(x => (x.Seq, x.Path))
            .ToList();
    }

    /// <summary>Replays existing segments (cutting a torn tail), then opens the WAL for appends after them.</summary>
    public static StreamWal Open(WalSettings settings, StreamKey key, Action<long, IngestBatch> replay, out WalReplayReport report)
    {
        var dir = DirectoryFor(settings.Dir, key);
        Fsync.CreateDirectory(dir);
        var segments = ListSegments(dir);
        report = WalReader.Replay(segments, replay);
        var wal = new StreamWal(settings, dir, segments)
        {
            _lastWrittenSeq = report.LastSeq,
            _ackedSeq = report.LastSeq,
        };
        return wal;
    }

    /// <summary>Completes when the entry is durable per the flush strategy; throws when it could not be written.</summary>
    public Task AppendAsync(long seq, IngestBatch batch)
    {
        var op = new AppendOp(seq, batch, Stopwatch.GetTimestamp());
        WalMetrics.AppendInflight.Inc();
        if (!_ops.Writer.TryWrite(op))
        {
            WalMetrics.AppendInflight.Dec();
            return Task.FromException(new ObjectDisposedException("the WAL is closed"));
        }
        return op.Done.Task;
    }

    /// <summary>Deletes every segment whose entries all have seq &lt;= <paramref name="throughSeq"/>.</summary>
    public void TruncateThrough(long throughSeq) => _ops.Writer.TryWrite(new TruncateOp(throughSeq));

    public int SegmentCount => _sealed.Count + (_active is null ? 0 : 1);

    private async Task RunAsync()
    {
        var batch = new List<AppendOp>();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            while (await _ops.Reader.WaitToReadAsync())
            {
                batch.Clear();
                var bytes = 0;
                while (bytes < MaxDrainBytes && _ops.Reader.TryRead(out var op))
                {
                    switch (op)
                    {
                        case AppendOp a:
                            batch.Add(a);
                            bytes += WalEntryCodec.EncodedSize(a.Batch);
                            break;
                        case TruncateOp t:
                            // Appends drained before this truncate are written first.
                            WriteAll(batch, ref buffer);
                            batch.Clear();
                            bytes = 0;
                            try
                            {
                                Truncate(t.ThroughSeq);
                            }
                            catch (IOException)
                            {
                                // The segment stays listed and goes with a later truncate.
                            }
                            break;
                    }
                }
                WriteAll(batch, ref buffer);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _active?.Dispose();
        }
    }

    private void WriteAll(List<AppendOp> ops, ref byte[] buffer)
    {
        if (ops.Count == 0) return;
        var now = Stopwatch.GetTimestamp();
        foreach (var op in ops) WalMetrics.AppendLockWait.Observe(Stopwatch.GetElapsedTime(op.EnqueuedTicks, now).TotalSeconds);
        if (_broken is not null && !TryReopen())
        {
            Fail(ops, 0, _broken);
            return;
        }
        var done = 0;
        try
        {
            var pending = 0; // entries written since the last sync
            var offset = 0;
            var segmentStart = _activeLength;
            for (var i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                if (_active is null || _activeLength >= _settings.SegmentBytes)
                {
                    FlushBuffer(buffer, ref offset, ref segmentStart);
                    SyncAndComplete(ops, ref done, i, ref pending);
                    Roll(op.Seq);
                    segmentStart = 0;
                }
                var size = WalEntryCodec.EncodedSize(op.Batch);
                if (size - WalEntryCodec.HeaderSize > WalEntryCodec.MaxPayload)
                    throw new IOException(
                        $"a WAL entry of {size >> 20} MiB is over the {WalEntryCodec.MaxPayload >> 20} MiB " +
                        "a reader accepts");
                if (offset + size > buffer.Length)
                {
                    FlushBuffer(buffer, ref offset, ref segmentStart);
                    if (size > buffer.Length)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(size);
                    }
                }
                offset += WalEntryCodec.Encode(op.Seq, op.Batch, buffer.AsSpan(offset));
                _activeLength += size;
                _lastWrittenSeq = op.Seq;
                pending++;
                if (_settings.Strategy == FlushStrategy.EveryWrite)
                {
                    FlushBuffer(buffer, ref offset, ref segmentStart);
                    SyncAndComplete(ops, ref done, i + 1, ref pending);
                }
            }
            FlushBuffer(buffer, ref offset, ref segmentStart);
            SyncAndComplete(ops, ref done, ops.Count, ref pending);
        }
        catch (Exception e)
        {
            WalMetrics.FsyncErrors.Inc();
            // A failed write may leave a partial entry, and after a failed fsync the kernel may have dropped the
            // pages: the entries not acknowledged are cut off, so they are never replayed as if they had been.
            _broken = new IOException($"WAL write failed in {Directory}: {e.Message}", e);
            Fail(ops, done, _broken);
            TryReopen();
        }
    }

    /// <summary>
    /// Cuts the active segment back to its last acknowledged entry and reopens it, so the next append can succeed
    /// once the cause (a full disk) is gone. Until then every append fails and this is tried again.
    /// </summary>
    private bool TryReopen()
    {
        try
        {
            if (_activePath is not null)
            {
                _active?.Dispose();
                _active = null;
                var handle = File.OpenHandle(_activePath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
                RandomAccess.SetLength(handle, _ackedLength);
                Fsync.File(handle, dataOnly: false);
                _active = handle;
                _activeLength = _ackedLength;
            }
            _lastWrittenSeq = _ackedSeq;
            _broken = null;
            return true;
        }
        catch (Exception)
        {
            _active?.Dispose();
            _active = null;
            return false;
        }
    }

    private void FlushBuffer(byte[] buffer, ref int offset, ref long segmentStart)
    {
        if (offset == 0) return;
        RandomAccess.Write(_active!, buffer.AsSpan(0, offset), segmentStart);
        WalMetrics.AppendBytes.Inc(offset);
        segmentStart += offset;
        offset = 0;
    }

    /// <summary>Syncs what was written since the last sync (unless the strategy is none) and completes ops[done..upTo).</summary>
    private void SyncAndComplete(List<AppendOp> ops, ref int done, int upTo, ref int pending)
    {
        if (pending > 0 && _settings.Strategy != FlushStrategy.None && _active is not null)
        {
            var sw = Stopwatch.StartNew();
            Fsync.File(_active, dataOnly: _settings.Sync == SyncLevel.Data);
            WalMetrics.FsyncDuration.Observe(sw.Elapsed.TotalSeconds);
        }
        pending = 0;
        if (done < upTo)
        {
            _ackedLength = _activeLength;
            _ackedSeq = _lastWrittenSeq;
        }
        for (; done < upTo; done++)
        {
            WalMetrics.AppendInflight.Dec();
            ops[done].Done.TrySetResult();
        }
    }

    private static void Fail(List<AppendOp> ops, int from, Exception e)
    {
        for (var i = from; i < ops.Count; i++)
        {
            WalMetrics.AppendInflight.Dec();
            ops[i].Done.TrySetException(e);
        }
    }

    private void Roll(long firstSeq)
    {
        if (_active is not null)
        {
            _sealed.Add((_activeFirstSeq, _activePath!));
            _active.Dispose();
        }
        _active = null;
        _activeFirstSeq = firstSeq;
        _activePath = Path.Combine(Directory, $"{firstSeq:D20}.wal");
        _activeLength = 0;
        _ackedLength = 0;
        _active = File.OpenHandle(_activePath, FileMode.Create, FileAccess.Write, FileShare.Read);
        Fsync.Directory(Directory);
    }

    private void Truncate(long throughSeq)
    {
        // The active segment is sealed once everything in it is flushed, so it can go too.
        if (_active is not null && _lastWrittenSeq <= throughSeq)
        {
            _sealed.Add((_activeFirstSeq, _activePath!));
            _active.Dispose();
            _active = null;
            _activePath = null;
        }
        for (var i = 0; i < _sealed.Count; i++)
        {
            var lastSeq = i + 1 < _sealed.Count ? _sealed[i + 1].FirstSeq - 1 : (_active is null ? _lastWrittenSeq : _activeFirstSeq - 1);
            if (lastSeq > throughSeq) break;
            File.Delete(_sealed[i].Path);
            _sealed.RemoveAt(i--);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _ops.Writer.TryComplete();
        await _loop;
    }
}
