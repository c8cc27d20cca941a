using System.Buffers;
using System.Threading.Channels;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// A statement's rows as Arrow IPC chunks: each a whole IPC stream of <see cref="ChunkBytes"/> to
/// <see cref="ChunkBytes"/> + <see cref="PartBytes"/>, large enough to amortise a message and below the 4 MiB
/// gRPC clients accept by default (and far below Orleans' limit).
/// </summary>
public static class ArrowChunks
{
    public const int ChunkBytes = 2 << 20, PartBytes = 1 << 20;

    /// <summary>
    /// Runs <paramref name="cmd"/> and writes its chunks to <paramref name="output"/> as DuckDB reads them; blocks
    /// while it scans, so call it on the thread pool. The output completes with the failure, mapped by
    /// <paramref name="map"/>, if the statement fails.
    /// </summary>
    public static async Task ProduceAsync(DuckDBCommand cmd, ChannelWriter<ArrowChunk> output,
        Func<Exception, Exception> map, CancellationToken ct)
    {
        try
        {
            await using var cancel = ct.Register(cmd.Cancel);
            using var stream = cmd.ExecuteArrowStream();
            var buffer = new MemoryStream();
            ArrowStreamWriter? writer = null;
            long rows = 0;
            while (await stream.ReadNextRecordBatchAsync(ct) is { } batch)
            {
                using (batch)
                {
                    foreach (var part in Parts(batch))
                    {
                        writer ??= new ArrowStreamWriter(buffer, batch.Schema, leaveOpen: true);
                        await writer.WriteRecordBatchAsync(part, ct);
                        rows += part.Length;
                        if (buffer.Length < ChunkBytes) continue;
                        await writer.WriteEndAsync(ct);
                        writer.Dispose();
                        writer = null;
                        await output.WriteAsync(Pooled(buffer, rows), ct);
                        buffer.SetLength(0);
                        rows = 0;
                    }
                }
            }
            if (writer is not null)
            {
                await writer.WriteEndAsync(ct);
                writer.Dispose();
                await output.WriteAsync(Pooled(buffer, rows), ct);
            }
            output.Complete();
        }
        catch (Exception e)
        {
            output.Complete(map(e));
        }
    }

    /// <summary>Chunks in flight are few (a bounded channel, one being sent): a small pool of their size
    /// serves.</summary>
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(ChunkBytes + 2 * PartBytes, 16);

    private static ArrowChunk Pooled(MemoryStream written, long rows)
    {
        var length = (int)written.Length;
        var buffer = Buffers.Rent(length);
        written.GetBuffer().AsSpan(0, length).CopyTo(buffer);
        return new ArrowChunk(buffer.AsMemory(0, length), rows, () => Buffers.Return(buffer));
    }

    /// <summary>
    /// A batch cut into slices of about <see cref="PartBytes"/> each: a batch of wide rows (2,048 rows of up to
    /// max_record_kb each) would otherwise make one chunk larger than a gRPC or Orleans message may be.
    /// </summary>
    public static IEnumerable<RecordBatch> Parts(RecordBatch batch)
    {
        long bytes = 0;
        foreach (var column in batch.Arrays) bytes += Size(column.Data);
        if (bytes <= PartBytes || batch.Length <= 1)
        {
            yield return batch;
            yield break;
        }
        var step = (int)Math.Max(1, batch.Length * PartBytes / bytes);
        for (var offset = 0; offset < batch.Length; offset += step)
            yield return batch.Slice(offset, Math.Min(step, batch.Length - offset));
    }

    private static long Size(ArrayData data)
    {
        long bytes = 0;
        foreach (var buffer in data.Buffers) bytes += buffer.Length;
        foreach (var child in data.Children ?? []) bytes += Size(child);
        return bytes;
    }
}
