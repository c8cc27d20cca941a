using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;

namespace MoleSignal.Grains.Storage;

public sealed record S3StoreSettings(
    string Bucket,
    string Region,
    string Endpoint,
    bool PathStyle,
    string Prefix,
    string ChecksumMode,
    string CredentialsFile,
    string Profile,
    string AccessKeyId,
    string SecretAccessKey);

/// <summary>S3 and S3-compatible stores (MinIO, R2, OSS) through AWSSDK.S3.</summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _prefix;

    public S3ObjectStore(S3StoreSettings s, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = s.PathStyle,
            AuthenticationRegion = s.Region,
        };
        if (s.ChecksumMode == "when_required")
        {
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        if (!string.IsNullOrEmpty(s.Endpoint)) config.ServiceURL = s.Endpoint;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(s.Region);
        _client = new AmazonS3Client(ResolveCredentials(s, environment), config);
        _bucket = s.Bucket;
        _prefix = string.IsNullOrEmpty(s.Prefix) ? "" : s.Prefix.TrimEnd('/') + "/";
    }

    public string Backend => "s3";

    /// <summary>Precedence: environment variables, then the shared credentials file, then inline TOML.</summary>
    public static AWSCredentials ResolveCredentials(S3StoreSettings s, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null
            ? (environment.TryGetValue(name, out var v) ? v : null)
            : Environment.GetEnvironmentVariable(name);

        var envKey = Env("AWS_ACCESS_KEY_ID");
        var envSecret = Env("AWS_SECRET_ACCESS_KEY");
        if (!string.IsNullOrEmpty(envKey) && !string.IsNullOrEmpty(envSecret))
        {
            var token = Env("AWS_SESSION_TOKEN");
            return string.IsNullOrEmpty(token) ? new BasicAWSCredentials(envKey, envSecret) : new SessionAWSCredentials(envKey, envSecret, token);
        }
        var file = string.IsNullOrEmpty(s.CredentialsFile) ? null : s.CredentialsFile;
        var shared = file is null ? new SharedCredentialsFile() : new SharedCredentialsFile(file);
        if ((file is null || File.Exists(file)) && shared.TryGetProfile(s.Profile, out var profile)
            && AWSCredentialsFactory.TryGetAWSCredentials(profile, shared, out var fromFile))
            return fromFile;
        if (!string.IsNullOrEmpty(s.AccessKeyId))
            return new BasicAWSCredentials(s.AccessKeyId, s.SecretAccessKey);
        return new AnonymousAWSCredentials();
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        await using var stream = MemoryMarshal.TryGetArray(data, out var seg)
            ? new MemoryStream(seg.Array!, seg.Offset, seg.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        await PutStreamAsync(key, stream, ct);
    }

    /// <summary>Above this a file is uploaded as a multipart upload (S3 allows single puts up to 5 GiB).</summary>
    public const long MultipartFrom = 64L << 20;
    public const long MultipartPartBytes = 16L << 20;

    public async Task PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        if (new FileInfo(path).Length > MultipartFrom)
        {
            // Large files (job results) go up in parts of MultipartPartBytes, read from the file as they are sent.
            using var transfer = new Amazon.S3.Transfer.TransferUtility(_client);
            await transfer.UploadAsync(new Amazon.S3.Transfer.TransferUtilityUploadRequest
            {
                BucketName = _bucket, Key = FullKey(key), FilePath = path, PartSize = MultipartPartBytes,
            }, ct);
        }
        else
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                FileOptions.Asynchronous);
            await PutStreamAsync(key, stream, ct);
        }
        File.Delete(path);
    }

    private Task PutStreamAsync(string key, Stream stream, CancellationToken ct) =>
        _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = FullKey(key),
            InputStream = stream,
            AutoCloseStream = false,
        }, ct);

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        try
        {
            using var response = await _client.GetObjectAsync(_bucket, FullKey(key), ct);
            var length = response.ContentLength;
            using var ms = length > 0 ? new MemoryStream((int)length) : new MemoryStream();
            await response.ResponseStream.CopyToAsync(ms, ct);
            return ms.Length == ms.Capacity ? ms.GetBuffer() : ms.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default)
    {
        if (length <= 0) return await ExistsAsync(key, ct) ? [] : null;
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _bucket, Key = FullKey(key), ByteRange = new ByteRange(offset, offset + length - 1),
            }, ct);
            using var ms = new MemoryStream((int)Math.Min(length, Math.Max(response.ContentLength, 0)));
            await response.ResponseStream.CopyToAsync(ms, ct);
            // Some S3-compatible servers answer a range with the whole object (200), or more than asked (s3rver
            // for bytes=0-0): cut the range out of what came.
            var skip = response.HttpStatusCode == HttpStatusCode.PartialContent ? 0 : offset;
            return ObjectRange.Cut(ms.GetBuffer().AsSpan(0, (int)ms.Length), skip, length);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return await ExistsAsync(key, ct) ? [] : null;
        }
    }

    private async Task<bool> ExistsAsync(string key, CancellationToken ct)
    {
        try
        {
            await _client.GetObjectMetadataAsync(_bucket, FullKey(key), ct);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default) =>
        await _client.DeleteObjectAsync(_bucket, FullKey(key), ct);

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix + prefix };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request, ct);
            foreach (var o in page.S3Objects ?? [])
                yield return new ObjectInfo(o.Key[_prefix.Length..], o.Size ?? 0);
            if (page.IsTruncated != true) yield break;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    private string FullKey(string key) => _prefix + ObjectKey.Validate(key);

    public void Dispose() => _client.Dispose();
}
