using System.Runtime.CompilerServices;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Query;

/// <summary>A one-row answer computed without the engine (<c>SELECT count(*) FROM stream</c>).</summary>
internal sealed class ConstantCursor(IReadOnlyList<QueryColumn> columns, object?[] row, QueryStats stats, Action release) : IQueryCursor
{
    private int _disposed;

    public IReadOnlyList<QueryColumn> Columns => columns;

    public QueryStats Stats => stats;

    public async IAsyncEnumerable<object?[]> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await Task.CompletedTask;
        yield return row;
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) release();
        return ValueTask.CompletedTask;
    }
}
