using System.Text;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Grains.Wal;
using Prometheus;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// Where WAL entries go whose rows cannot be encoded into data files: their WAL bytes, unchanged, at
/// <see cref="ObjectKey.Quarantine"/> with the cause beside them (<c>.cause.txt</c>). Nothing acknowledged is
/// dropped, and one such record never stops its stream: the entry leaves the buffer and the WAL like a flushed
/// one, and the stream goes on flushing. An operator can read the object back with the WAL reader.
/// </summary>
public sealed class FlushQuarantine(StreamFlusher flusher, IObjectStore store, IngestKeyStore keys,
    LiveSettings<IngestSettings> settings, ILogger<FlushQuarantine> log)
{
    private static readonly Counter Runs = Metrics.CreateCounter(
        "flush_quarantined_entries_total",
        "WAL entries moved to the quarantine because their rows could not be encoded.");

    private static readonly Counter Records = Metrics.CreateCounter(
        "flush_quarantined_records_total", "Records in quarantined WAL entries.");

    /// <summary>One WAL entry into data files of its own, or into the quarantine when its rows cannot be encoded.</summary>
    public async Task FlushOrKeepAsync(StreamKey key, long seq, IngestBatch batch,
        IReadOnlyList<(string Name, FieldKind Kind)> schema, CancellationToken ct = default)
    {
        try
        {
            await flusher.FlushAsync(key, [batch], schema, seq, seq, ct);
        }
        catch (FlushEncodingException e)
        {
            await PutAsync(key, seq, batch, e, ct);
        }
    }

    private async Task PutAsync(StreamKey key, long seq, IngestBatch batch, Exception cause, CancellationToken ct)
    {
        var bytes = new byte[WalEntryCodec.EncodedSize(batch)];
        WalEntryCodec.Encode(seq, batch, bytes);
        var objectKey = ObjectKey.Quarantine(key, seq, seq);
        // The cause first: an entry found in quarantine always says why it is there.
        await store.PutAsync(objectKey + ".cause.txt", Encoding.UTF8.GetBytes(cause.ToString()), ct);
        await store.PutAsync(objectKey, bytes, ct);
        // The entry's records are kept, if not queryable: a retry of its request must not write them again.
        var now = Clock.NowMicros(TimeProvider.System);
        await keys.RememberAsync(key, IngestKeyStore.Of([batch], now),
            IngestKeyStore.OldestKept(now, settings.Current.IdempotencyWindow), ct);
        Runs.Inc();
        Records.Inc(batch.Count);
        log.LogError(
            "stream {Stream}: WAL entry {Seq} ({Records} records) cannot be encoded, kept at {Key}: {Cause}",
            key, seq, batch.Count, objectKey, cause.GetBaseException().Message);
    }
}
