using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Query;

/// <summary>A cursor whose rows can be read as Arrow chunks (the Scan service, a federated query's partials).
/// </summary>
internal interface IArrowCursor : IQueryCursor
{
    IAsyncEnumerable<ArrowChunk> ReadArrowAsync(CancellationToken ct);
}

/// <summary>A one-row answer of BIGINT columns computed without the engine (<c>SELECT count(*) FROM stream</c>).
/// </summary>
internal sealed class ConstantCursor(IReadOnlyList<QueryColumn> columns, object?[] row, QueryStats stats,
    Action release) : IArrowCursor
{
    private int _disposed;

    public IReadOnlyList<QueryColumn> Columns => columns;

    public QueryStats Stats => stats;

    public async IAsyncEnumerable<object?[]> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await Task.CompletedTask;
        yield return row;
    }

    public async IAsyncEnumerable<ArrowChunk> ReadArrowAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var batch = new RecordBatch.Builder();
        for (var i = 0; i < columns.Count; i++)
            batch.Append(columns[i].Name, true, new Int64Array.Builder().Append((long)row[i]!).Build());
        using var built = batch.Build();
        var ipc = new MemoryStream();
        using (var writer = new ArrowStreamWriter(ipc, built.Schema, leaveOpen: true))
        {
            await writer.WriteRecordBatchAsync(built, ct);
            await writer.WriteEndAsync(ct);
        }
        yield return new ArrowChunk(ipc.ToArray(), 1);
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) release();
        return ValueTask.CompletedTask;
    }
}
