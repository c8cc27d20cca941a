using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Tail;
using MoleSignal.Grains.Tail;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// Owns one stream's WAL and unflushed buffer. Appends interleave (each awaits its own WAL commit, so concurrent
/// appends share a group commit); the buffer is only touched on the grain's turns. A flush encodes a snapshot (a
/// run of consecutive entries) off the grain scheduler; up to <see cref="MaxFlushesPerStream"/> run at once on
/// disjoint runs. Entries leave the buffer only from the front, once their data file is committed, and the WAL is
/// truncated behind them; a run flushed ahead of an earlier one waits in the buffer (queries count it there once).
/// </summary>
[MoleSignal.Grains.Cluster.IngesterPlacement]
public sealed class StreamGrain(
    LiveSettings<IngestSettings> settings,
    IngestMemory memory,
    FlushScheduler scheduler,
    StreamFlusher flusher,
    StreamMetaStore meta,
    WalRecovery recovery,
    FlushQuarantine quarantine,
    NodeDrain drain,
    IngestKeyStore keyStore,
    ILogger<StreamGrain> log) : Grain, IStreamGrain
{
    /// <summary>A hot stream keeps both cores of a small node busy encoding; more would only hold more memory.</summary>
    private const int MaxFlushesPerStream = 2;

    private enum EntryState { Buffered, Flushing, Flushed }

    private sealed class Entry(long seq, IngestBatch batch)
    {
        public long Seq { get; } = seq;
        public IngestBatch Batch { get; } = batch;
        public DateTime AddedAt { get; } = DateTime.UtcNow;
        public bool Committed { get; set; }
        public EntryState State { get; set; }
        public bool Flushable => Committed && State == EntryState.Buffered;
    }

    private readonly List<Entry> _buffer = [];
    private readonly StreamSchema _schema = new();
    private TailFeed? _tail;
    private StreamKey _key = null!;
    private StreamWal _wal = null!;
    private long _nextSeq;
    private long _bufferBytes;
    private long _bufferRecords;
    private readonly List<Task<bool>> _flushes = [];
    private long _flushingBytes; // of entries in a running flush or flushed behind an earlier one
    private DateTime _retryFlushAfter = DateTime.MinValue;
    private int _failedFlushes;
    private int _encodingFailures; // in a row: past max_flush_attempts, runs flush entry by entry
    private bool _walRemoved; // drained: the WAL is gone and no append is taken
    private IdempotencyKeys? _keys; // read from the metadata at the first append with a key
    private Task<IdempotencyKeys>? _keysLoad;

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
        drain.Activated(this.GetPrimaryKeyString());
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
        if (!_walRemoved) await _wal.DisposeAsync();
        memory.Release(_bufferBytes);
        drain.Deactivated(this.GetPrimaryKeyString());
    }

    public async Task Drain()
    {
        // Appends already past the draining check commit their WAL entry first; the buffer then empties.
        for (var i = 0; i < 50 && (_buffer.Count > 0 || i == 0); i++)
        {
            if (i > 0) await Task.Delay(100);
            await FlushAll();
        }
        if (_buffer.Count > 0) throw new IOException($"stream {_key}: {_buffer.Count} entries still buffered");
        await _wal.DisposeAsync();
        _walRemoved = true;
        var dir = StreamWal.DirectoryFor(settings.Current.Wal.Dir, _key);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        DeactivateOnIdle();
    }

    public async Task<long> Delete(long deleteObjectsAfterMicros, string[] dumpedObjects)
    {
        _walRemoved = true; // no append from now on
        try
        {
            // Appends past that check finish their WAL write; running flushes commit their files (removed below).
            for (var i = 0; i < 100 && _buffer.Exists(e => !e.Committed); i++) await Task.Delay(10);
            while (Running() > 0) await Task.WhenAll(_flushes.ToArray());
            // The WAL goes before the metadata: a crash in between leaves the stream listed (delete it again), never
            // a WAL that would replay the deleted records into new files.
            await _wal.DisposeAsync();
            var dir = StreamWal.DirectoryFor(settings.Current.Wal.Dir, _key);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            memory.Release(_bufferBytes);
            _buffer.Clear();
            _bufferBytes = _bufferRecords = _flushingBytes = 0;
            return await meta.DeleteStreamAsync(_key, deleteObjectsAfterMicros, dumpedObjects);
        }
        finally
        {
            DeactivateOnIdle();
        }
    }

    public Task<bool> Tail(ITailObserver observer) => Task.FromResult((_tail ??= new TailFeed(log)).Add(observer));

    public Task Untail(ITailObserver observer)
    {
        _tail?.Remove(observer);
        return Task.CompletedTask;
    }

    public async Task<AppendResult> Append(IngestBatch batch)
    {
        // A draining node takes nothing new: the sender retries, by then at the stream's next owner.
        if (drain.Draining || _walRemoved)
            return new AppendResult(AppendStatus.Backpressure, 1,
                "this ingester is draining or the stream being deleted; retry");
        var key = batch.IdempotencyKey;
        IdempotencyKeys? keys = null;
        if (key is not null)
        {
            keys = await KeysAsync();
            if (keys is null)
                return new AppendResult(AppendStatus.Backpressure, 2,
                    "this stream's idempotency keys are not readable yet (WAL replay or metadata); retry");
            if (!batch.ContinuesRequest)
            {
                switch (keys.Check(key, Clock.NowMicros(TimeProvider.System), out var receipt))
                {
                    case IdempotencyKeys.State.Acknowledged:
                        IngestMetrics.IdempotentReplays.Inc();
                        return new AppendResult(AppendStatus.Duplicate, Receipt: receipt);
                    case IdempotencyKeys.State.InFlight:
                        return new AppendResult(AppendStatus.Backpressure, 1,
                            "a request with this Idempotency-Key is being written; retry");
                }
            }
        }
        // A request's later batches name the same fields as its first, which was checked.
        if (!batch.ContinuesRequest && SchemaFullFor(batch) is { } full) return full;
        var size = batch.Payload.Length;
        if (batch.ContinuesRequest) memory.ForceReserve(size);
        else if (!memory.TryReserve(size))
        {
            IngestMetrics.Records.WithLabels("backpressure").Inc(batch.Count);
            StartFlush(force: true);
            return new AppendResult(AppendStatus.Backpressure, _failedFlushes > 0 ? 5 : 1,
                $"the ingester buffer is full ({memory.Used >> 20} of {memory.Limit >> 20} MiB unflushed); retry later");
        }
        // Taken on the same turn as the check: a concurrent retry of the key sees it in flight.
        if (key is not null && !batch.ContinuesRequest) keys!.Reserve(key, Clock.NowMicros(TimeProvider.System));
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
            if (key is not null) keys!.Release(key);
            log.LogError("stream {Stream}: WAL append failed: {Error}", _key, e.Message);
            return new AppendResult(AppendStatus.Failed, 0, e.Message);
        }
        entry.Committed = true;
        _tail?.Publish(batch);
        if (key is not null && batch.Receipt is { } done)
            keys!.Acknowledge(key, done, Clock.NowMicros(TimeProvider.System));
        IngestMetrics.Records.WithLabels("accepted").Inc(batch.Count);
        IngestMetrics.Bytes.Inc(size);
        StartFlush(force: false);
        return AppendResult.Ok;
    }

    public Task Flush() => FlushAll();

    /// <summary>
    /// The stream's keys: those its flushed entries left in the metadata, within the window. Null while this
    /// node still replays the stream's WAL from before a restart (its keys reach the metadata with its records)
    /// or the metadata cannot be read: a keyed request then waits rather than risk writing twice.
    /// </summary>
    private async Task<IdempotencyKeys?> KeysAsync()
    {
        var window = settings.Current.IdempotencyWindow;
        if (_keys is not null)
        {
            _keys.Window = window;
            return _keys;
        }
        if (WalRecovery.IsPending(settings.Current.Wal.Dir, _key)) return null;
        _keysLoad ??= LoadKeysAsync(window);
        try
        {
            return _keys ??= await _keysLoad;
        }
        catch (Exception e)
        {
            _keysLoad = null;
            log.LogWarning("stream {Stream}: idempotency keys not readable: {Error}", _key, e.Message);
            return null;
        }
    }

    private async Task<IdempotencyKeys> LoadKeysAsync(TimeSpan window)
    {
        var keys = new IdempotencyKeys(window);
        var since = IngestKeyStore.OldestKept(Clock.NowMicros(TimeProvider.System), window);
        foreach (var k in await keyStore.SinceAsync(_key, since)) keys.Acknowledge(k.Key, k.Receipt, k.AckedAtMicros);
        return keys;
    }

    /// <summary>Refuses a batch that would grow the schema past <c>max_stream_fields</c>, before anything is
    /// written.</summary>
    private AppendResult? SchemaFullFor(IngestBatch batch)
    {
        var max = settings.Current.MaxStreamFields;
        var added = 0;
        foreach (var name in batch.FieldNames)
            if (!_schema.Contains(name)) added++;
        if (added == 0 || _schema.Fields.Count + added <= max) return null;
        return new AppendResult(AppendStatus.SchemaFull, 0,
            $"the stream has {_schema.Fields.Count} fields and [ingester].max_stream_fields is {max}",
            _schema.Fields.Select(f => f.Name).ToArray(), max);
    }

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
        _buffer.Add(e);
        _bufferBytes += e.Batch.Payload.Length;
        _bufferRecords += e.Batch.Count;
    }

    private Task OnTimer(CancellationToken ct)
    {
        var first = _buffer.Find(e => e.Flushable);
        if (first is not null && DateTime.UtcNow - first.AddedAt >= settings.Current.FlushInterval) StartFlush(force: true);
        else StartFlush(force: false);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts a flush of the next run of buffered entries when a slot is free, no failed flush is backing off, and
    /// the run is due: <paramref name="force"/>d, a file's worth of bytes, or memory under pressure.
    /// </summary>
    private void StartFlush(bool force)
    {
        if (Running() >= MaxFlushesPerStream || DateTime.UtcNow < _retryFlushAfter) return;
        var threshold = settings.Current.FlushThresholdBytes;
        // Checked on every append: a counter, not a walk over the buffer.
        if (!force && !memory.UnderPressure && _bufferBytes - _flushingBytes < threshold) return;
        var run = NextRun(threshold);
        if (run.Count > 0) Launch(run);
    }

    /// <summary>The first run of consecutive committed, unflushed entries, up to about <paramref name="maxBytes"/>.</summary>
    private List<Entry> NextRun(long maxBytes)
    {
        var run = new List<Entry>();
        var start = _buffer.FindIndex(e => e.State == EntryState.Buffered);
        if (start < 0) return run;
        long bytes = 0;
        for (var i = start; i < _buffer.Count && _buffer[i].Flushable && bytes < maxBytes; i++)
        {
            run.Add(_buffer[i]);
            bytes += _buffer[i].Batch.Payload.Length;
        }
        return run;
    }

    /// <summary>The only way a flush starts, so no entry is ever in two flushes.</summary>
    private Task<bool> Launch(List<Entry> run)
    {
        foreach (var e in run) e.State = EntryState.Flushing;
        _flushingBytes += run.Sum(e => (long)e.Batch.Payload.Length);
        var flush = FlushRun(run);
        _flushes.Add(flush);
        return flush;
    }

    private int Running()
    {
        _flushes.RemoveAll(t => t.IsCompleted);
        return _flushes.Count;
    }

    /// <summary>Flushes until everything committed before the call is in data files; throws if a flush fails.</summary>
    private async Task FlushAll()
    {
        var target = _nextSeq - 1;
        while (true)
        {
            if (Running() > 0)
            {
                await Task.WhenAll(_flushes.ToArray());
                continue;
            }
            if (_buffer.Count == 0 || _buffer[0].Seq > target || !_buffer[0].Committed) return;
            if (!await Launch(NextRun(long.MaxValue)))
                throw new IOException($"stream {_key}: flush failed; the WAL keeps the data");
        }
    }

    /// <summary>
    /// Encodes and commits one run; false (after logging and backing off) when that failed. After
    /// <c>max_flush_attempts</c> encoding failures in a row the run goes entry by entry, and an entry that still
    /// cannot be encoded is quarantined: every other entry reaches the files and the stream moves on.
    /// </summary>
    private async Task<bool> FlushRun(List<Entry> run)
    {
        var schema = _schema.Fields.ToList();
        var s = settings.Current;
        try
        {
            if (_encodingFailures >= s.MaxFlushAttempts)
            {
                foreach (var entry in run)
                {
                    await scheduler.RunAsync(async () =>
                    {
                        await quarantine.FlushOrKeepAsync(_key, entry.Seq, entry.Batch, schema);
                        return true;
                    });
                    entry.State = EntryState.Flushed; // on the grain's turn: a retry never writes it twice
                }
            }
            else
            {
                var batches = run.Select(e => e.Batch).ToList();
                await scheduler.RunAsync(() => flusher.FlushAsync(_key, batches, schema, run[0].Seq, run[^1].Seq));
            }
        }
        catch (Exception e)
        {
            // Back on the grain's turn: what is not in a file yet is buffered again, for the next flush after the
            // backoff.
            foreach (var entry in run.Where(x => x.State == EntryState.Flushing))
            {
                entry.State = EntryState.Buffered;
                _flushingBytes -= entry.Batch.Payload.Length;
            }
            _failedFlushes++;
            IngestMetrics.FlushErrors.Inc();
            var encoding = e is FlushEncodingException;
            if (encoding) _encodingFailures++;
            // A store that is down is retried gently; rows that failed to encode are retried soon, then isolated.
            var backoff = encoding
                ? TimeSpan.FromSeconds(Math.Min(5, _encodingFailures))
                : TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(_failedFlushes, 5))));
            _retryFlushAfter = DateTime.UtcNow + backoff;
            log.LogWarning("stream {Stream}: flush failed ({Failures} in a row), retrying in {Backoff}s: {Error}",
                _key, _failedFlushes, backoff.TotalSeconds, e.GetBaseException().Message);
            DropFlushedFront(); // entries an entry-by-entry run did write
            return false;
        }
        foreach (var entry in run) entry.State = EntryState.Flushed;
        _failedFlushes = 0;
        _encodingFailures = 0;
        DropFlushedFront();
        _ = StartNextFlush();
        return true;
    }

    /// <summary>Appends that arrived during a flush may already fill another file: checked once that flush is done.</summary>
    private async Task StartNextFlush()
    {
        await Task.Yield();
        StartFlush(force: false);
    }

    private void DropFlushedFront()
    {
        var n = 0;
        long bytes = 0, records = 0;
        for (; n < _buffer.Count && _buffer[n].State == EntryState.Flushed; n++)
        {
            bytes += _buffer[n].Batch.Payload.Length;
            records += _buffer[n].Batch.Count;
        }
        if (n == 0) return;
        var through = _buffer[n - 1].Seq;
        _buffer.RemoveRange(0, n);
        _bufferBytes -= bytes;
        _flushingBytes -= bytes;
        _bufferRecords -= records;
        memory.Release(bytes);
        _wal.TruncateThrough(through);
    }
}
