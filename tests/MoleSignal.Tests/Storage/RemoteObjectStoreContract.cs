using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

/// <summary>What a cloud backend adds to the contract: a key prefix inside its bucket, and large uploads in parts.</summary>
public abstract class RemoteObjectStoreContract : ObjectStoreContract
{
    /// <summary>The same bucket seen through a key prefix.</summary>
    protected abstract IObjectStore WithPrefix(string prefix);

    /// <summary>A size that makes the backend upload in several parts or blocks.</summary>
    protected abstract int LargeFileBytes { get; }

    [Fact]
    public async Task A_bucket_prefix_is_kept_out_of_the_keys_we_see()
    {
        var prefixed = WithPrefix("tenant-a/");
        try
        {
            var key = $"p{Guid.NewGuid():N}/f";
            await prefixed.PutAsync(key, new byte[] { 4, 2 });
            Assert.Equal([key], (await ToListAsync(prefixed.ListAsync(key[..10]))).Select(o => o.Key));
            Assert.Equal(new byte[] { 4, 2 }, await Store.GetAsync("tenant-a/" + key));
        }
        finally
        {
            (prefixed as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task A_large_file_goes_up_in_parts_and_comes_back_byte_for_byte()
    {
        using var dir = new TempDir();
        var path = dir.Combine("big.ndjson");
        var data = new byte[LargeFileBytes];
        new Random(11).NextBytes(data);
        await File.WriteAllBytesAsync(path, data);
        var key = $"m{Guid.NewGuid():N}/result.ndjson";
        await Store.PutFileAsync(key, path);
        Assert.False(File.Exists(path)); // used up, as with the local store
        Assert.Equal(data, await Store.GetAsync(key));
        await Store.DeleteAsync(key);
    }
}
