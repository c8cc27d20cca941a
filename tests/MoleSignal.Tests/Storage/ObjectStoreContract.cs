using System.Security.Cryptography;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

/// <summary>The behaviour every backend must show, run against each real backend.</summary>
public abstract class ObjectStoreContract
{
    protected abstract IObjectStore Store { get; }

    private static string Key(string name) => $"default/logs/app/2026-11-26/{Guid.NewGuid():N}-{name}";

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes()
    {
        foreach (var size in new[] { 0, 1, 128, 1 << 20, 5 * (1 << 20) + 17 })
        {
            var key = Key($"{size}.parquet");
            var data = RandomNumberGenerator.GetBytes(size);
            await Store.PutAsync(key, data);
            var back = await Store.GetAsync(key);
            Assert.NotNull(back);
            Assert.Equal(size, back!.Length);
            Assert.True(data.AsSpan().SequenceEqual(back), $"bytes differ for size {size}");
        }
    }

    [Fact]
    public async Task A_file_put_reads_back_byte_for_byte_and_overwrites_whole()
    {
        var key = Key("file.parquet");
        await Store.PutAsync(key, RandomNumberGenerator.GetBytes(4096));
        var data = RandomNumberGenerator.GetBytes(300_000);
        var path = Path.Combine(Path.GetTempPath(), "molesignal-put-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(path, data);
        await Store.PutFileAsync(key, path);
        Assert.Equal(data, await Store.GetAsync(key));
        Assert.False(File.Exists(path)); // used up
    }

    [Fact]
    public async Task Put_overwrites_whole()
    {
        var key = Key("o");
        await Store.PutAsync(key, RandomNumberGenerator.GetBytes(4096));
        var second = RandomNumberGenerator.GetBytes(100);
        await Store.PutAsync(key, second);
        Assert.Equal(second, await Store.GetAsync(key));
    }

    [Fact]
    public async Task Missing_object_is_null_and_delete_of_missing_is_fine()
    {
        var key = Key("missing");
        Assert.Null(await Store.GetAsync(key));
        await Store.DeleteAsync(key);
    }

    [Fact]
    public async Task Delete_removes()
    {
        var key = Key("d");
        await Store.PutAsync(key, new byte[] { 1, 2, 3 });
        await Store.DeleteAsync(key);
        Assert.Null(await Store.GetAsync(key));
    }

    [Fact]
    public async Task List_returns_keys_under_a_prefix_with_sizes()
    {
        var prefix = $"org{Guid.NewGuid():N}/logs/";
        var keys = Enumerable.Range(0, 5).Select(i => $"{prefix}s{i % 2}/f{i}").ToList();
        for (var i = 0; i < keys.Count; i++) await Store.PutAsync(keys[i], new byte[i + 1]);
        await Store.PutAsync($"other{Guid.NewGuid():N}/x", new byte[1]);

        var all = await ToListAsync(Store.ListAsync(prefix));
        Assert.Equal(keys.Order(), all.Select(o => o.Key).Order());
        Assert.Equal(3, all.Single(o => o.Key == keys[2]).Size);
        var s1 = await ToListAsync(Store.ListAsync(prefix + "s1/"));
        Assert.Equal([keys[1], keys[3]], s1.Select(o => o.Key).Order());
    }

    [Fact]
    public async Task A_range_get_returns_the_bytes_asked_for_fewer_at_the_end_none_past_it()
    {
        var key = Key("range");
        var data = RandomNumberGenerator.GetBytes(1000);
        await Store.PutAsync(key, data);
        async Task Expect(byte[] want, long offset, int length) =>
            Assert.Equal(want, await Store.GetRangeAsync(key, offset, length));
        await Expect(data[10..110], 10, 100);
        await Expect(data[..1], 0, 1);
        await Expect(data[950..], 950, 100);
        await Expect([], 1000, 10);
        await Expect([], 5000, 10);
        await Expect([], 10, 0);
        Assert.Null(await Store.GetRangeAsync(Key("absent"), 0, 10));
        Assert.Null(await Store.GetRangeAsync(Key("absent"), 0, 0));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../b")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    [InlineData("")]
    [InlineData("a/\0b")]
    public async Task Keys_that_could_escape_are_rejected(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new byte[] { 1 }));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAsync(key));
    }

    [Fact]
    public async Task Probe_round_trip_succeeds_and_leaves_nothing()
    {
        var probe = new ObjectStoreProbe(Store);
        Assert.True(await probe.ProbeAsync());
        Assert.Empty(await ToListAsync(Store.ListAsync("_health/")));
    }

    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var i in items) list.Add(i);
        return list;
    }
}
