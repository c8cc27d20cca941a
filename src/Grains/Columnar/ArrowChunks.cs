using System.Threading.Channels;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// A statement's rows as Arrow IPC chunks: each a whole IPC stream of about <see cref="ChunkBytes"/>, large enough
/// to amortise a message and far below Orleans' and gRPC's message limits.
/// </summary>
public static class ArrowChunks
{
    public const int ChunkBytes = 4 << 20;

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
                    writer ??= new ArrowStreamWriter(buffer, batch.Schema, leaveOpen: true);
                    await writer.WriteRecordBatchAsync(batch, ct);
                    rows += batch.Length;
                }
                if (buffer.Length < ChunkBytes) continue;
                await writer.WriteEndAsync(ct);
                writer.Dispose();
                writer = null;
                await output.WriteAsync(new ArrowChunk(buffer.ToArray(), rows), ct);
                buffer.SetLength(0);
                rows = 0;
            }
            if (writer is not null)
            {
                await writer.WriteEndAsync(ct);
                writer.Dispose();
                await output.WriteAsync(new ArrowChunk(buffer.ToArray(), rows), ct);
            }
            output.Complete();
        }
        catch (Exception e)
        {
            output.Complete(map(e));
        }
    }
}
