using System.Diagnostics;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// Turns a buffer snapshot into data files: sorted by <c>_timestamp</c>, one Parquet file and one index sidecar
/// per UTC day, uploaded under <c>{org}/{type}/{stream}/{date}/{file-id}</c>, then FileMeta committed with the
/// entries' idempotency keys. File ids
/// derive from the WAL range, so a flush redone after a crash overwrites the same objects and rows.
/// A failure to encode the rows (anything but I/O) is a <see cref="FlushEncodingException"/>: retrying it gives
/// the same answer, so the caller quarantines the entries instead of retrying for ever.
/// </summary>
public sealed class StreamFlusher(IObjectStore store, StreamMetaStore meta, LiveSettings<IngestSettings> settings, ParquetEncoder parquet)
{
    public async Task<IReadOnlyList<FileMeta>> FlushAsync(StreamKey key, IReadOnlyList<IngestBatch> batches,
        IReadOnlyList<(string Name, FieldKind Kind)> schema, long seqStart, long seqEnd, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var s = settings.Current;
        var (set, order) = Encode(() =>
        {
            var columns = new ColumnSet(batches, schema);
            return (columns, columns.SortedOrder());
        });
        var originalTotal = batches.Sum(b => b.OriginalBytes);
        var files = new List<FileMeta>();
        var part = 0;
        for (var from = 0; from < order.Length; part++)
        {
            var day = Partitions.DayOf(set.Timestamps[order[from]]);
            var to = from + 1;
            while (to < order.Length && Partitions.DayOf(set.Timestamps[order[to]]) == day) to++;

            var fileId = $"{seqStart:D12}-{seqEnd:D12}-{part}";
            var prefix = ObjectKey.DataFile(key, Encode(() => Partitions.DayName(day)), fileId);
            // DuckDB encodes on its threads while this one builds the index: both only read the columns.
            var encoding = parquet.EncodeAsync(set, order, from, to, ct);
            var (f0, t0) = (from, to);
            byte[] sidecar;
            try
            {
                sidecar = Encode(() => IndexSidecar.Build(set, order, f0, t0, s.TextFields, s.IdFields));
            }
            catch
            {
                try { (await encoding).Dispose(); } catch { /* the sidecar's failure is the one reported */ }
                throw;
            }
            using var data = await EncodeAsync(encoding);
            await store.PutAsync(prefix + ".idx", sidecar, ct);
            await store.PutFileAsync(prefix + ".parquet", data.Path, ct);
            var rows = to - from;
            files.Add(new FileMeta(fileId, prefix + ".parquet", prefix + ".idx",
                set.Timestamps[order[from]], set.Timestamps[order[to - 1]], rows,
                originalTotal * rows / Math.Max(1, order.Length), data.Length, sidecar.Length, seqStart, seqEnd));
            from = to;
        }
        var now = Clock.NowMicros(TimeProvider.System);
        await meta.CommitFlushAsync(key, files,
            schema.Select(f => new SchemaField(f.Name, FieldKinds.Name(f.Kind))).ToList(), seqEnd, ct,
            IngestKeyStore.Of(batches, now), IngestKeyStore.OldestKept(now, s.IdempotencyWindow));
        IngestMetrics.FlushDuration.Observe(sw.Elapsed.TotalSeconds);
        IngestMetrics.FlushedRows.Inc(order.Length);
        return files;
    }

    /// <summary>What the rows caused: not I/O (a full scratch disk is worth retrying), not a cancellation.</summary>
    private static bool RowsFailed(Exception e) =>
        e is not (IOException or OperationCanceledException) && e.GetBaseException() is not IOException
        && !e.Message.StartsWith("IO Error", StringComparison.Ordinal);

    private static T Encode<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (RowsFailed(e))
        {
            throw new FlushEncodingException(e);
        }
    }

    private static async Task<T> EncodeAsync<T>(Task<T> work)
    {
        try
        {
            return await work;
        }
        catch (Exception e) when (RowsFailed(e))
        {
            throw new FlushEncodingException(e);
        }
    }
}

/// <summary>The rows of a flush could not be encoded (not an I/O failure): the same rows would fail again.</summary>
public sealed class FlushEncodingException(Exception inner)
    : Exception($"the rows could not be encoded: {inner.GetBaseException().Message}", inner);
