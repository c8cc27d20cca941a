using Orleans.Concurrency;

namespace MoleSignal.Grains.Abstractions.Tail;

/// <summary>Records a stream acknowledged, as NDJSON (one JSON object per record, <c>_timestamp</c> first).</summary>
[GenerateSerializer]
public sealed class TailRecords
{
    [Id(0)] public required byte[] Ndjson { get; init; }
    [Id(1)] public required int Count { get; init; }
}

/// <summary>A live tail's end: the stream's ingester pushes each acknowledged batch to it, never waiting on it.
/// </summary>
public interface ITailObserver : IGrainObserver
{
    [OneWay]
    Task OnRecords(TailRecords records);
}

/// <summary>The bounds of live tails: a stream feeds at most <see cref="SubscribersPerStream"/> at once, and a
/// subscription the tail does not renew within <see cref="Expiry"/> (its reader gone without a word) ends.</summary>
public static class TailLimits
{
    public const int SubscribersPerStream = 16;

    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(60);

    /// <summary>How often a tail renews its subscription (well inside the expiry).</summary>
    public static readonly TimeSpan Renew = TimeSpan.FromSeconds(15);
}
