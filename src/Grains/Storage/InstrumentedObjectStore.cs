using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace MoleSignal.Grains.Storage;

/// <summary>Counts and times every call of the store it wraps.</summary>
public sealed class InstrumentedObjectStore(IObjectStore inner) : IObjectStore
{
    public string Backend => inner.Backend;

    public IObjectStore Inner => inner;

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        Measure("put", () => inner.PutAsync(key, data, ct));

    public Task PutFileAsync(string key, string path, CancellationToken ct = default) =>
        Measure("put", () => inner.PutFileAsync(key, path, ct));

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        byte[]? result = null;
        await Measure("get", async () => result = await inner.GetAsync(key, ct));
        return result;
    }

    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default)
    {
        byte[]? result = null;
        await Measure("get", async () => result = await inner.GetRangeAsync(key, offset, length, ct));
        return result;
    }

    public Task DeleteAsync(string key, CancellationToken ct = default) =>
        Measure("delete", () => inner.DeleteAsync(key, ct));

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ObjectStoreMetrics.Operations.WithLabels(Backend, "list").Inc();
        var sw = Stopwatch.StartNew();
        await using var e = inner.ListAsync(prefix, ct).GetAsyncEnumerator(ct);
        while (true)
        {
            bool more;
            try
            {
                more = await e.MoveNextAsync();
            }
            catch
            {
                ObjectStoreMetrics.Errors.WithLabels(Backend, "list").Inc();
                throw;
            }
            if (!more) break;
            yield return e.Current;
        }
        ObjectStoreMetrics.Duration.WithLabels(Backend, "list").Observe(sw.Elapsed.TotalSeconds);
    }

    private async Task Measure(string op, Func<Task> call)
    {
        ObjectStoreMetrics.Operations.WithLabels(Backend, op).Inc();
        var sw = Stopwatch.StartNew();
        try
        {
            await call();
        }
        catch
        {
            ObjectStoreMetrics.Errors.WithLabels(Backend, op).Inc();
            throw;
        }
        finally
        {
            ObjectStoreMetrics.Duration.WithLabels(Backend, op).Observe(sw.Elapsed.TotalSeconds);
        }
    }
}
