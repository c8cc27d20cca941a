using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// Writes WAL entries left by an earlier activation (a crash, a failed flush on deactivation) straight into data
/// files, without a grain: in a cluster the stream may live on another ingester by now, and this node's WAL
/// must still reach the files. Entries a data file already covers are skipped; the rest are flushed a segment
/// and an epoch at a time (a file never spans two epochs, so its WAL range names only its own entries), and a
/// segment is deleted only once its entries are committed.
/// </summary>
public sealed class WalRecovery(
    StreamFlusher flusher, StreamMetaStore meta, FileIndex files, FlushQuarantine quarantine, ILogger<WalRecovery> log)
{
    /// <summary>Where <see cref="SetAside"/> moves WAL directories; not a valid org name, so never a live stream's.</summary>
    public const string RecoveryDirName = ".recovery";

    public sealed record Result(long Entries, long Records, long Bytes);

    /// <summary>
    /// Moves every stream's WAL segments under <c>{walDir}/.recovery</c> before the silo starts, so grains
    /// activated while recovery runs open empty WALs of their own and never race it.
    /// </summary>
    public static void SetAside(string walDir)
    {
        var root = Path.GetFullPath(walDir);
        if (!Directory.Exists(root)) return;
        foreach (var (key, dir) in StreamDirectories(root))
        {
            var target = Path.Combine(root, RecoveryDirName, key.Org, key.Type, key.Stream);
            Fsync.CreateDirectory(target);
            foreach (var (_, path) in StreamWal.ListSegments(dir))
                File.Move(path, Path.Combine(target, Path.GetFileName(path)), overwrite: false);
            Fsync.Directory(target);
            Fsync.Directory(dir);
        }
    }

    /// <summary>The set-aside directories still holding segments.</summary>
    public static List<(StreamKey Key, string Dir)> Pending(string walDir) =>
        StreamDirectories(Path.Combine(Path.GetFullPath(walDir), RecoveryDirName));

    /// <summary>Whether the stream still has set-aside segments: what they hold is not in the files (nor its
    /// idempotency keys in the metadata) yet.</summary>
    public static bool IsPending(string walDir, StreamKey key) => StreamWal.ListSegments(
        Path.Combine(Path.GetFullPath(walDir), RecoveryDirName, key.Org, key.Type, key.Stream)).Count > 0;

    /// <summary>{root}/{org}/{type}/{stream} directories holding segments.</summary>
    public static List<(StreamKey Key, string Dir)> StreamDirectories(string root)
    {
        var found = new List<(StreamKey, string)>();
        if (!Directory.Exists(root)) return found;
        foreach (var org in Directory.EnumerateDirectories(root))
        {
            if (Path.GetFileName(org) == RecoveryDirName) continue;
            foreach (var type in Directory.EnumerateDirectories(org))
            foreach (var stream in Directory.EnumerateDirectories(type))
                if (StreamWal.ListSegments(stream).Count > 0)
                    found.Add((new StreamKey(Path.GetFileName(org), Path.GetFileName(type), Path.GetFileName(stream)), stream));
        }
        return found;
    }

    /// <summary>Flushes what the directory's segments hold beyond the data files, then deletes the segments.</summary>
    public async Task<Result> RecoverAsync(StreamKey key, string dir, CancellationToken ct = default)
    {
        long entries = 0, records = 0, bytes = 0, cut = 0, skipped = 0;
        var segments = StreamWal.ListSegments(dir);
        if (segments.Count == 0) return new Result(0, 0, 0);
        foreach (var segment in segments)
        {
            var read = new List<(long Seq, IngestBatch Batch)>();
            var report = WalReader.Replay([segment], (seq, batch) => read.Add((seq, batch)));
            var flushed = await FlushUncoveredAsync(key, read, ct);
            entries += flushed.Entries;
            records += flushed.Records;
            bytes += report.Bytes;
            cut += report.TornBytesCut;
            skipped += report.CorruptBytesSkipped;
            File.Delete(segment.Path);
        }
        Fsync.Directory(dir);
        if (entries > 0 || cut > 0)
            log.LogInformation("stream {Stream}: replayed {Entries} WAL entries ({Records} records) into data files; torn tail cut: {Cut} bytes",
                key, entries, records, cut);
        if (skipped > 0)
            log.LogError("stream {Stream}: {Skipped} damaged WAL bytes between good entries were passed over",
                key, skipped);
        return new Result(entries, records, bytes);
    }

    private async Task<Result> FlushUncoveredAsync(StreamKey key, List<(long Seq, IngestBatch Batch)> read, CancellationToken ct)
    {
        if (read.Count == 0) return new Result(0, 0, 0);
        read.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        var covered = await files.FlushedRangesAsync(key, read[0].Seq, read[^1].Seq, ct);
        var pending = read.Where(e => !covered.Any(r => r.Start <= e.Seq && e.Seq <= r.End)).ToList();
        long records = 0;
        foreach (var epoch in pending.GroupBy(e => e.Seq >> 32))
        {
            var batch = epoch.ToList();
            var schema = new StreamSchema();
            schema.Load((await meta.EnsureAsync(key, ct)).Schema);
            foreach (var (_, b) in batch) schema.Merge(b.FieldNames, b.FieldKinds);
            try
            {
                var batches = batch.Select(e => e.Batch).ToList();
                await flusher.FlushAsync(key, batches, schema.Fields, batch[0].Seq, batch[^1].Seq, ct);
            }
            catch (FlushEncodingException)
            {
                // The same rows fail the same way every time: entry by entry, the ones that cannot be encoded
                // are quarantined and the rest reach the files.
                foreach (var (seq, b) in batch) await quarantine.FlushOrKeepAsync(key, seq, b, schema.Fields, ct);
            }
            records += batch.Sum(e => (long)e.Batch.Count);
        }
        return new Result(pending.Count, records, 0);
    }
}
