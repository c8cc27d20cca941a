namespace MoleSignal.Grains.Ingest;

/// <summary>At most [ingester].flush_parallelism flushes at once on this node, each off the grain scheduler.</summary>
public sealed class FlushScheduler(int parallelism)
{
    private readonly SemaphoreSlim _slots = new(parallelism, parallelism);

    public Task<T> RunAsync<T>(Func<Task<T>> work) => Task.Run(async () =>
    {
        await _slots.WaitAsync();
        try
        {
            return await work();
        }
        finally
        {
            _slots.Release();
        }
    });
}
