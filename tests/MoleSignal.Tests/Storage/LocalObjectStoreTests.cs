using System.Security.Cryptography;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

public sealed class LocalObjectStoreTests : ObjectStoreContract, IDisposable
{
    private readonly TempDir _dir = new();
    private readonly LocalObjectStore _store;

    public LocalObjectStoreTests() => _store = new LocalObjectStore(_dir.Combine("objects"));

    protected override IObjectStore Store => _store;

    [Fact]
    public async Task Readers_racing_overwrites_only_ever_see_a_whole_object()
    {
        const string key = "default/logs/race/obj";
        var versions = Enumerable.Range(0, 8).Select(i => Enumerable.Repeat((byte)i, 256 * 1024).ToArray()).ToArray();
        await _store.PutAsync(key, versions[0]);
        using var stop = new CancellationTokenSource();
        var torn = 0;
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var b = await _store.GetAsync(key);
                Interlocked.Increment(ref reads);
                if (b is null || b.Length != versions[0].Length || b.Any(x => x != b[0])) Interlocked.Increment(ref torn);
            }
        });
        for (var round = 0; round < 200; round++) await _store.PutAsync(key, versions[round % versions.Length]);
        await Poll.UntilAsync(() => Volatile.Read(ref reads) > 50, TimeSpan.FromSeconds(30), "reader made progress");
        stop.Cancel();
        await reader;
        Assert.Equal(0, torn);
    }

    [Fact]
    public async Task A_put_leaves_no_temp_file_and_the_file_is_in_the_key_path()
    {
        await _store.PutAsync("o/logs/s/2026-11-26/f1", RandomNumberGenerator.GetBytes(10));
        var files = Directory.GetFiles(_store.Root, "*", SearchOption.AllDirectories);
        Assert.Equal([Path.Combine(_store.Root, "o", "logs", "s", "2026-11-26", "f1")], files);
    }

    [Fact]
    public async Task Temp_files_of_a_crashed_put_are_not_listed()
    {
        Directory.CreateDirectory(Path.Combine(_store.Root, "o"));
        await File.WriteAllBytesAsync(Path.Combine(_store.Root, "o", ".f.tmp-abc"), [1, 2]);
        await _store.PutAsync("o/f", new byte[] { 9 });
        var listed = await ToListAsync(_store.ListAsync("o/"));
        Assert.Equal(["o/f"], listed.Select(l => l.Key));
    }

    public void Dispose() => _dir.Dispose();
}
