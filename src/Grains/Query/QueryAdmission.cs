using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Query;

/// <summary>
/// At most <c>[querier].max_concurrent</c> queries run at once on this node; one more is refused at once (never
/// queued: a queue would hold its caller's connection and memory while the node is already full).
/// </summary>
internal sealed class QueryAdmission(LiveSettings<QuerySettings> settings)
{
    private SemaphoreSlim? _slots;
    private int _slotCount;

    /// <summary>A slot, given back by calling the returned action once; a query nested in one that holds a slot
    /// (a federated aggregate's local partial) takes none.</summary>
    public async Task<Action> EnterAsync(bool nested, CancellationToken ct)
    {
        var max = settings.Current.MaxConcurrent;
        var slots = nested ? new SemaphoreSlim(1, 1) : Slots(max);
        if (!await slots.WaitAsync(0, ct))
        {
            QueryMetrics.Queries.WithLabels("too_many").Inc();
            throw new QueryException(QueryErrorKind.Busy, "too_many_queries",
                $"{max} queries are running (querier.max_concurrent); retry shortly");
        }
        QueryMetrics.Running.Inc();
        var released = 0;
        return () =>
        {
            if (Interlocked.Exchange(ref released, 1) != 0) return;
            slots.Release();
            QueryMetrics.Running.Dec();
        };
    }

    /// <summary>The slots of the current limit: a changed limit starts a new set (queries holding the old one give
    /// theirs back to it).</summary>
    private SemaphoreSlim Slots(int count)
    {
        var slots = _slots;
        if (slots is null || _slotCount != count)
        {
            slots = _slots = new SemaphoreSlim(count, count);
            _slotCount = count;
        }
        return slots;
    }
}
