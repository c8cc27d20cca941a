using Amazon.Runtime;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Storage;

[Collection(S3Collection.Name)]
public sealed class S3ObjectStoreTests(S3Server server) : RemoteObjectStoreContract
{
    private readonly S3ObjectStore _store = new(Settings(server.Endpoint, prefix: ""),
        new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER" });

    protected override IObjectStore Store => _store;

    private static S3StoreSettings Settings(string endpoint, string prefix = "", string credentialsFile = "", string accessKey = "", string secret = "") =>
        new(S3Server.Bucket, "us-east-1", endpoint, true, prefix, "when_required", credentialsFile, "default", accessKey, secret);

    protected override IObjectStore WithPrefix(string prefix) => new S3ObjectStore(Settings(server.Endpoint, prefix),
        new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER" });

    protected override int LargeFileBytes => (int)S3ObjectStore.MultipartFrom + 3 * 1024 * 1024 + 17;

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
