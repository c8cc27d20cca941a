using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Cloud.Storage.V1;

namespace MoleSignal.Grains.Storage;

public sealed record GcsStoreSettings(
    string Bucket,
    string Prefix,
    /// <summary>JSON API base URL for emulators (http://host:port/storage/v1/); empty: Google's endpoint.</summary>
    string Endpoint,
    /// <summary>A service-account JSON key file (a mounted secret).</summary>
    string CredentialsFile,
    /// <summary>The same JSON inline.</summary>
    string CredentialsJson);

/// <summary>Google Cloud Storage through Google.Cloud.Storage.V1; one bucket, an optional key prefix.</summary>
public sealed class GcsObjectStore : IObjectStore
{
    // Resumable uploads in chunks of this size, committed by the last one: readers see the old object or the new one.
    private const int UploadChunkBytes = 16 << 20;
    private readonly StorageClient _client;
    private readonly string _bucket;
    private readonly string _prefix;

    public GcsObjectStore(GcsStoreSettings s, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var builder = new StorageClientBuilder();
        if (!string.IsNullOrEmpty(s.Endpoint)) builder.BaseUri = s.Endpoint.TrimEnd('/') + "/";
        var credential = ResolveCredential(s, environment);
        if (credential is not null) builder.GoogleCredential = credential;
        // An emulator without credentials takes requests as they come; against Google the builder falls back to
        // application default credentials (the metadata server, workload identity).
        else if (!string.IsNullOrEmpty(s.Endpoint)) builder.UnauthenticatedAccess = true;
        _client = builder.Build();
        _bucket = s.Bucket;
        _prefix = string.IsNullOrEmpty(s.Prefix) ? "" : s.Prefix.TrimEnd('/') + "/";
    }

    public string Backend => "gcs";

    /// <summary>
    /// Precedence: GOOGLE_APPLICATION_CREDENTIALS (a key file's path), then credentials_file, then credentials_json;
    /// null when none is set. Service-account keys sign their own JWT access tokens, so no token endpoint is called.
    /// </summary>
    public static GoogleCredential? ResolveCredential(GcsStoreSettings s,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var envFile = environment is not null
            ? (environment.TryGetValue("GOOGLE_APPLICATION_CREDENTIALS", out var v) ? v : null)
            : Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS");
        ServiceAccountCredential? account = null;
        if (!string.IsNullOrEmpty(envFile)) account = CredentialFactory.FromFile<ServiceAccountCredential>(envFile);
        else if (!string.IsNullOrEmpty(s.CredentialsFile))
            account = CredentialFactory.FromFile<ServiceAccountCredential>(s.CredentialsFile);
        else if (!string.IsNullOrEmpty(s.CredentialsJson))
            account = CredentialFactory.FromJson<ServiceAccountCredential>(s.CredentialsJson);
        return account?.WithUseJwtAccessWithScopes(true).ToGoogleCredential()
            .CreateScoped("https://www.googleapis.com/auth/devstorage.read_write");
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        // The bytes are read in place when they live in an array (they almost always do), copied otherwise.
        using var body = MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        await UploadAsync(key, body, ct);
    }

    public async Task PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                         useAsync: true))
            await UploadAsync(key, file, ct);
        File.Delete(path);
    }

    private Task UploadAsync(string key, Stream body, CancellationToken ct) =>
        _client.UploadObjectAsync(_bucket, FullKey(key), "application/octet-stream", body,
            new UploadObjectOptions { ChunkSize = UploadChunkBytes }, ct);

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        try
        {
            using var buffer = new MemoryStream();
            await _client.DownloadObjectAsync(_bucket, FullKey(key), buffer, cancellationToken: ct);
            return buffer.ToArray();
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default)
    {
        try
        {
            if (length <= 0)
                return await _client.GetObjectAsync(_bucket, FullKey(key), cancellationToken: ct) is null ? null : [];
            using var buffer = new MemoryStream();
            await _client.DownloadObjectAsync(_bucket, FullKey(key), buffer,
                new DownloadObjectOptions
                {
                    Range = new RangeHeaderValue(offset, offset + length - 1),
                    // The object's hash covers all of it, so a part cannot be checked against it.
                    DownloadValidationMode = DownloadValidationMode.Never,
                }, ct);
            // More than asked means the server sent the whole object (an emulator does, past the end): cut it out.
            return buffer.Length <= length
                ? buffer.ToArray()
                : ObjectRange.Cut(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), offset, length);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return await GetRangeAsync(key, 0, 0, ct);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default)
    {
        try
        {
            await _client.DeleteObjectAsync(_bucket, FullKey(key), cancellationToken: ct);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var o in _client.ListObjectsAsync(_bucket, _prefix + prefix).WithCancellation(ct))
            yield return new ObjectInfo(o.Name[_prefix.Length..], (long)(o.Size ?? 0));
    }

    private string FullKey(string key) => _prefix + ObjectKey.Validate(key);
}
