using System.Diagnostics;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// Turns a buffer snapshot into data files: sorted by <c>_timestamp</c>, one Parquet file and one index sidecar
/// per UTC day, uploaded under <c>{org}/{type}/{stream}/{date}/{file-id}</c>, then FileMeta committed. File ids
/// derive from the WAL range, so a flush redone after a crash overwrites the same objects and rows.
/// </summary>
public sealed class StreamFlusher(IObjectStore store, StreamMetaStore meta, LiveSettings<IngestSettings> settings, ParquetEncoder parquet)
{
    private const long MicrosPerDay = 86_400_000_000L;

    public async Task<IReadOnlyList<FileMeta>> FlushAsync(StreamKey key, IReadOnlyList<IngestBatch> batches,
        IReadOnlyList<(string Name, FieldKind Kind)> schema, long seqStart, long seqEnd, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var s = settings.Current;
        var set = new ColumnSet(batches, schema);
        var order = set.SortedOrder();
        var originalTotal = batches.Sum(b => b.OriginalBytes);
        var files = new List<FileMeta>();
        var part = 0;
        for (var from = 0; from < order.Length; part++)
        {
            var day = FloorDiv(set.Timestamps[order[from]], MicrosPerDay);
            var to = from + 1;
            while (to < order.Length && FloorDiv(set.Timestamps[order[to]], MicrosPerDay) == day) to++;

            var fileId = $"{seqStart:D12}-{seqEnd:D12}-{part}";
            var date = DateTimeOffset.FromUnixTimeMilliseconds(day * 86_400_000L).ToString("yyyy-MM-dd");
            var prefix = $"{key.Org}/{key.Type}/{key.Stream}/{date}/{fileId}";
            // DuckDB encodes on its threads while this one builds the index: both only read the columns.
            var encoding = parquet.EncodeAsync(set, order, from, to, ct);
            var sidecar = IndexSidecar.Build(set, order, from, to, s.TextFields, s.IdFields);
            using var data = await encoding;
            await store.PutAsync(prefix + ".idx", sidecar, ct);
            await store.PutFileAsync(prefix + ".parquet", data.Path, ct);
            var rows = to - from;
            files.Add(new FileMeta(fileId, prefix + ".parquet", prefix + ".idx",
                set.Timestamps[order[from]], set.Timestamps[order[to - 1]], rows,
                originalTotal * rows / Math.Max(1, order.Length), data.Length, sidecar.Length, seqStart, seqEnd));
            from = to;
        }
        await meta.CommitFlushAsync(key, files, schema.Select(f => new SchemaField(f.Name, FieldKinds.Name(f.Kind))).ToList(), seqEnd, ct);
        IngestMetrics.FlushDuration.Observe(sw.Elapsed.TotalSeconds);
        IngestMetrics.FlushedRows.Inc(order.Length);
        return files;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
