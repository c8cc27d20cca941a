using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// Owns one stream's WAL and unflushed buffer. Appends interleave (each awaits its own WAL commit, so concurrent
/// appends share a group commit); the buffer is only touched on the grain's turns. A flush encodes a snapshot
/// off the grain scheduler and, once FileMeta is committed, drops the snapshot and truncates the WAL behind it.
/// </summary>
[MoleSignal.Grains.Cluster.IngesterPlacement]
public sealed class StreamGrain(
    LiveSettings<IngestSettings> settings,
    IngestMemory memory,
    FlushScheduler scheduler,
    StreamFlusher flusher,
    StreamMetaStore meta,
    WalRecovery recovery,
    ILogger<StreamGrain> log) : Grain, IStreamGrain
{
    private sealed class Entry(long seq, IngestBatch batch)
    {
        public long Seq { get; } = seq;
        public IngestBatch Batch { get; } = batch;
        public bool Committed { get; set; }
    }

    private readonly List<Entry> _buffer = [];
    private readonly StreamSchema _schema = new();
    private StreamKey _key = null!;
    private StreamWal _wal = null!;
    private long _nextSeq;
    private long _bufferBytes;
    private long _bufferRecords;
    private DateTime _oldestEntryAt = DateTime.MaxValue;
    private Task? _flushing;
    private DateTime _retryFlushAfter = DateTime.MinValue;
    private int _failedFlushes;

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        _key = StreamKey.Parse(this.GetPrimaryKeyString());
        var epoch = await meta.NextWalEpochAsync(_key, ct);
        // What an earlier activation here left in the WAL (a failed flush on deactivation) goes to files first:
        // the buffer only ever holds this activation's entries.
        await recovery.RecoverAsync(_key, StreamWal.DirectoryFor(settings.Current.Wal.Dir, _key), ct);
        _schema.Load((await meta.GetAsync(_key, ct))!.Schema); // the row exists: taking the epoch made it
        _wal = StreamWal.Open(settings.Current.Wal, _key, static (_, _) => { }, out _);
        _nextSeq = epoch << 32;
        var tick = TimeSpan.FromSeconds(Math.Clamp(settings.Current.FlushInterval.TotalSeconds / 4, 0.2, 5));
        this.RegisterGrainTimer(OnTimer, new GrainTimerCreationOptions(tick, tick) { Interleave = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        try
        {
            await FlushAll();
        }
        catch (Exception e)
        {
            // The WAL still holds everything: the next activation replays it.
            log.LogWarning("stream {Stream}: flush on deactivation failed, the WAL keeps the data: {Error}", _key, e.Message);
        }
        await _wal.DisposeAsync();
        memory.Release(_bufferBytes);
    }

    public async Task<AppendResult> Append(IngestBatch batch)
    {
        var size = batch.Records.Length;
        if (batch.ContinuesRequest) memory.ForceReserve(size);
        else if (!memory.TryReserve(size))
        {
            IngestMetrics.Records.WithLabels("backpressure").Inc(batch.Count);
            StartFlush();
            return new AppendResult(AppendStatus.Backpressure, _failedFlushes > 0 ? 5 : 1,
                $"the ingester buffer is full ({memory.Used >> 20} of {memory.Limit >> 20} MiB unflushed); retry later");
        }
        var entry = new Entry(_nextSeq++, batch);
        Add(entry);
        _schema.Merge(batch.FieldNames, batch.FieldKinds);
        try
        {
            await _wal.AppendAsync(entry.Seq, batch);
        }
        catch (Exception e)
        {
            _buffer.Remove(entry);
            _bufferBytes -= size;
            _bufferRecords -= batch.Count;
            memory.Release(size);
            log.LogError("stream {Stream}: WAL append failed: {Error}", _key, e.Message);
            return new AppendResult(AppendStatus.Failed, 0, e.Message);
        }
        entry.Committed = true;
        IngestMetrics.Records.WithLabels("accepted").Inc(batch.Count);
        IngestMetrics.Bytes.Inc(size);
        if (_bufferBytes >= settings.Current.FlushThresholdBytes || memory.UnderPressure) StartFlush();
        return AppendResult.Ok;
    }

    public Task Flush() => FlushAll();

    public Task<StreamBufferStats> GetBufferStats()
    {
        long min = long.MaxValue, max = long.MinValue, records = 0, original = 0;
        foreach (var e in _buffer)
        {
            if (!e.Committed) continue;
            min = Math.Min(min, e.Batch.MinTimestamp);
            max = Math.Max(max, e.Batch.MaxTimestamp);
            records += e.Batch.Count;
            original += e.Batch.OriginalBytes;
        }
        return Task.FromResult(new StreamBufferStats(records, _bufferBytes, min, max, original, SchemaFields(), BufferedFromSeq));
    }

    public Task<BufferedBatches> GetBuffered(long minTs, long maxTs) =>
        Task.FromResult(new BufferedBatches(
            _buffer.Where(e => e.Committed && e.Batch.MaxTimestamp >= minTs && e.Batch.MinTimestamp <= maxTs).Select(e => e.Batch).ToArray(),
            BufferedFromSeq,
            SchemaFields()));

    private (string Name, string Type)[] SchemaFields() => _schema.Fields.Select(f => (f.Name, FieldKinds.Name(f.Kind))).ToArray();

    /// <summary>Entries stay in seq order and leave only from the front, once their data file is committed.</summary>
    private long BufferedFromSeq => _buffer.Count > 0 ? _buffer[0].Seq : _nextSeq;

    private void Add(Entry e)
    {
        if (_buffer.Count == 0) _oldestEntryAt = DateTime.UtcNow;
        _buffer.Add(e);
        _bufferBytes += e.Batch.Records.Length;
        _bufferRecords += e.Batch.Count;
    }

    private Task OnTimer(CancellationToken ct)
    {
        var s = settings.Current;
        if (_buffer.Count > 0 && (DateTime.UtcNow - _oldestEntryAt >= s.FlushInterval || memory.UnderPressure))
            StartFlush();
        return Task.CompletedTask;
    }

    /// <summary>Starts a flush unless one runs or a failed one is backing off.</summary>
    private void StartFlush()
    {
        if (_flushing is null && DateTime.UtcNow >= _retryFlushAfter) _ = RunFlush();
    }

    /// <summary>The only way a flush starts, so two never work on the same snapshot.</summary>
    private Task RunFlush()
    {
        var flush = FlushOnce();
        _flushing = flush.ContinueWith(t =>
        {
            _flushing = null;
            if (t.Exception is { } e)
            {
                _failedFlushes++;
                IngestMetrics.FlushErrors.Inc();
                var backoff = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(_failedFlushes, 5))));
                _retryFlushAfter = DateTime.UtcNow + backoff;
                log.LogWarning("stream {Stream}: flush failed ({Failures} in a row), retrying in {Backoff}s: {Error}",
                    _key, _failedFlushes, backoff.TotalSeconds, e.GetBaseException().Message);
            }
            else
            {
                _failedFlushes = 0;
                // Appends that arrived during the flush may already fill another file.
                if (_bufferBytes >= settings.Current.FlushThresholdBytes || memory.UnderPressure) StartFlush();
            }
        }, TaskScheduler.Current);
        return flush;
    }

    /// <summary>Flushes until everything committed before the call is in data files; throws if a flush fails.</summary>
    private async Task FlushAll()
    {
        var target = _nextSeq - 1;
        while (true)
        {
            if (_flushing is not null)
            {
                await _flushing;
                continue;
            }
            if (_buffer.Count == 0 || _buffer[0].Seq > target || !_buffer[0].Committed) return;
            await RunFlush();
        }
    }

    private async Task FlushOnce()
    {
        var n = 0;
        while (n < _buffer.Count && _buffer[n].Committed) n++;
        if (n == 0) return;
        var snapshot = _buffer.GetRange(0, n);
        var schema = _schema.Fields.ToList();
        var batches = snapshot.Select(e => e.Batch).ToList();
        var seqStart = snapshot[0].Seq;
        var seqEnd = snapshot[^1].Seq;
        await scheduler.RunAsync(() => flusher.FlushAsync(_key, batches, schema, seqStart, seqEnd));

        // Back on the grain's turn: appends since the snapshot sit after it in the buffer.
        _buffer.RemoveRange(0, n);
        var bytes = batches.Sum(b => (long)b.Records.Length);
        _bufferBytes -= bytes;
        _bufferRecords -= batches.Sum(b => (long)b.Count);
        memory.Release(bytes);
        _oldestEntryAt = _buffer.Count > 0 ? DateTime.UtcNow : DateTime.MaxValue;
        _wal.TruncateThrough(seqEnd);
    }
}
