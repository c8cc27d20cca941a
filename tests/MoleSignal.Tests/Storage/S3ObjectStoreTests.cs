using Amazon.Runtime;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

[Collection(S3Collection.Name)]
public sealed class S3ObjectStoreTests(S3Server server) : ObjectStoreContract
{
    private readonly S3ObjectStore _store = new(Settings(server.Endpoint, prefix: ""),
        new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER" });

    protected override IObjectStore Store => _store;

    private static S3StoreSettings Settings(string endpoint, string prefix = "", string credentialsFile = "", string accessKey = "", string secret = "") =>
        new(S3Server.Bucket, "us-east-1", endpoint, true, prefix, "when_required", credentialsFile, "default", accessKey, secret);

    [Fact]
    public async Task A_bucket_prefix_is_kept_out_of_the_keys_we_see()
    {
        var env = new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER" };
        using var prefixed = new S3ObjectStore(Settings(server.Endpoint, prefix: "tenant-a/"), env);
        var key = $"p{Guid.NewGuid():N}/f";
        await prefixed.PutAsync(key, new byte[] { 4, 2 });
        Assert.Equal([key], (await ToListAsync(prefixed.ListAsync(key[..10]))).Select(o => o.Key));
        Assert.Equal(new byte[] { 4, 2 }, await _store.GetAsync("tenant-a/" + key));
    }

    [Fact]
    public async Task A_file_over_the_multipart_threshold_goes_up_in_parts_and_comes_back_byte_for_byte()
    {
        using var dir = new TempDir();
        var path = dir.Combine("big.ndjson");
        var data = new byte[S3ObjectStore.MultipartFrom + 3 * 1024 * 1024 + 17];
        new Random(11).NextBytes(data);
        await File.WriteAllBytesAsync(path, data);
        var key = $"m{Guid.NewGuid():N}/result.ndjson";
        await _store.PutFileAsync(key, path);
        Assert.False(File.Exists(path)); // used up, as with the local store
        Assert.Equal(data, await _store.GetAsync(key));
        await _store.DeleteAsync(key);
    }

    [Fact]
    public void Credentials_come_from_env_then_file_then_inline()
    {
        using var dir = new TempDir();
        var file = dir.Combine("credentials");
        File.WriteAllText(file, "[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = filesecret\n");
        var env = new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "FROMENV", ["AWS_SECRET_ACCESS_KEY"] = "envsecret" };
        var none = new Dictionary<string, string?>();

        string KeyOf(AWSCredentials c) => c.GetCredentials().AccessKey;

        Assert.Equal("FROMENV", KeyOf(S3ObjectStore.ResolveCredentials(Settings("", credentialsFile: file, accessKey: "INLINE", secret: "s"), env)));
        Assert.Equal("FROMFILE", KeyOf(S3ObjectStore.ResolveCredentials(Settings("", credentialsFile: file, accessKey: "INLINE", secret: "s"), none)));
        Assert.Equal("INLINE", KeyOf(S3ObjectStore.ResolveCredentials(Settings("", credentialsFile: dir.Combine("absent"), accessKey: "INLINE", secret: "s"), none)));
    }
}
