namespace MoleSignal.Grains.Query;

/// <summary>What a query holds until its cursor is gone (after its connection): cached files it reads, Arrow
/// streams its views scan.</summary>
internal sealed class QueryHolds(ObjectFiles files)
{
    public List<string> Pinned { get; } = [];
    public List<IDisposable> ArrowViews { get; } = [];

    public void Release()
    {
        foreach (var v in ArrowViews) v.Dispose();
        files.Unpin(Pinned);
    }
}
