using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

public sealed class ObjectStoreProbeTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>A real local store that can be told to fail: the fault injection the probe needs.</summary>
    private sealed class FlakyStore(IObjectStore inner) : IObjectStore
    {
        public volatile bool Failing;
        public string Backend => inner.Backend;
        private void Check() { if (Failing) throw new IOException("injected: store unreachable"); }
        public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) { Check(); return inner.PutAsync(key, data, ct); }
        public Task PutFileAsync(string key, string path, CancellationToken ct = default) { Check(); return inner.PutFileAsync(key, path, ct); }
        public Task<byte[]?> GetAsync(string key, CancellationToken ct = default) { Check(); return inner.GetAsync(key, ct); }
        public Task DeleteAsync(string key, CancellationToken ct = default) { Check(); return inner.DeleteAsync(key, ct); }
        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct = default) { Check(); return inner.ListAsync(prefix, ct); }
    }

    [Fact]
    public async Task Degraded_after_exactly_three_failures_and_cleared_by_one_success()
    {
        var store = new FlakyStore(new LocalObjectStore(_dir.Path));
        var probe = new ObjectStoreProbe(store);
        Assert.True(await probe.ProbeAsync());
        store.Failing = true;
        Assert.False(await probe.ProbeAsync());
        Assert.False(probe.Degraded);
        Assert.False(await probe.ProbeAsync());
        Assert.False(probe.Degraded);
        Assert.False(await probe.ProbeAsync());
        Assert.True(probe.Degraded);
        Assert.Contains("unreachable", probe.LastError);
        Assert.False(await probe.ProbeAsync());
        Assert.True(probe.Degraded);
        store.Failing = false;
        Assert.True(await probe.ProbeAsync());
        Assert.False(probe.Degraded);
        Assert.Equal(0, probe.ConsecutiveFailures);
    }

    [Fact]
    public async Task A_success_between_failures_resets_the_count()
    {
        var store = new FlakyStore(new LocalObjectStore(_dir.Path));
        var probe = new ObjectStoreProbe(store);
        store.Failing = true;
        await probe.ProbeAsync();
        await probe.ProbeAsync();
        store.Failing = false;
        await probe.ProbeAsync();
        store.Failing = true;
        await probe.ProbeAsync();
        await probe.ProbeAsync();
        Assert.False(probe.Degraded);
        await probe.ProbeAsync();
        Assert.True(probe.Degraded);
    }

    [Fact]
    public async Task A_store_that_returns_other_bytes_fails_the_round_trip()
    {
        var probe = new ObjectStoreProbe(new CorruptingStore(new LocalObjectStore(_dir.Path)));
        var e = await Assert.ThrowsAsync<IOException>(() => probe.RoundTripAsync());
        Assert.Contains("different bytes", e.Message);
    }

    private sealed class CorruptingStore(IObjectStore inner) : IObjectStore
    {
        public string Backend => inner.Backend;
        public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);
        public Task PutFileAsync(string key, string path, CancellationToken ct = default) => inner.PutFileAsync(key, path, ct);
        public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
        {
            var b = await inner.GetAsync(key, ct);
            if (b is { Length: > 0 }) b[0] ^= 0xFF;
            return b;
        }
        public Task DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);
        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct = default) => inner.ListAsync(prefix, ct);
    }

    public void Dispose() => _dir.Dispose();
}
