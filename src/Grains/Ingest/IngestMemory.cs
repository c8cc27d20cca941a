namespace MoleSignal.Grains.Ingest;

/// <summary>The node-wide bound on unflushed bytes ([ingester].buffer_max_mb).</summary>
public sealed class IngestMemory(LiveSettings<IngestSettings> settings)
{
    private long _used;

    public long Used => Interlocked.Read(ref _used);

    public long Limit => settings.Current.BufferMaxBytes;

    /// <summary>False when the bytes would pass the bound.</summary>
    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var used = Interlocked.Read(ref _used);
            if (used + bytes > Limit && used > 0) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used)
            {
                IngestMetrics.BufferBytes.Set(used + bytes);
                return true;
            }
        }
    }

    /// <summary>Replay must load what was acknowledged, bound or not.</summary>
    public void ForceReserve(long bytes) => IngestMetrics.BufferBytes.Set(Interlocked.Add(ref _used, bytes));

    public void Release(long bytes) => IngestMetrics.BufferBytes.Set(Interlocked.Add(ref _used, -bytes));

    /// <summary>Past three quarters of the bound every stream flushes what it holds.</summary>
    public bool UnderPressure => Used * 4 > Limit * 3;
}
