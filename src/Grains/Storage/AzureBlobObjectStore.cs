using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace MoleSignal.Grains.Storage;

public sealed record AzureStoreSettings(
    string Container,
    string Prefix,
    /// <summary>Blob service URL; empty: https://{account}.blob.core.windows.net (azurite: http://host:port/account).</summary>
    string Endpoint,
    string AccountName,
    string AccountKey,
    string SasToken,
    string ConnectionString,
    /// <summary>A file holding a connection string (a mounted secret).</summary>
    string CredentialsFile);

/// <summary>Azure Blob Storage (and azurite) through Azure.Storage.Blobs; one container, an optional key prefix.</summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    private readonly BlobContainerClient _container;
    private readonly string _prefix;

    public AzureBlobObjectStore(AzureStoreSettings s, IReadOnlyDictionary<string, string?>? environment = null)
    {
        _container = ResolveContainer(s, environment);
        _prefix = string.IsNullOrEmpty(s.Prefix) ? "" : s.Prefix.TrimEnd('/') + "/";
    }

    public string Backend => "azure";

    /// <summary>
    /// Precedence: environment variables (AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with
    /// AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN), then the credentials file (a connection string), then inline
    /// TOML (connection_string, or account_name with account_key or sas_token).
    /// </summary>
    public static BlobContainerClient ResolveContainer(AzureStoreSettings s, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Env(string name) => environment is not null
            ? (environment.TryGetValue(name, out var v) ? v : null)
            : Environment.GetEnvironmentVariable(name);
        // A few quick retries: an outage must show as failed probes within seconds, not after the SDK's minute of backoff.
        var options = new BlobClientOptions
        {
            Retry = { MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(2),
                NetworkTimeout = TimeSpan.FromSeconds(30) },
        };
        Uri ServiceUri(string account) => new(string.IsNullOrEmpty(s.Endpoint)
            ? $"https://{account}.blob.core.windows.net"
            : s.Endpoint.TrimEnd('/'));
        BlobContainerClient? FromAccount(string? account, string? key, string? sas)
        {
            if (string.IsNullOrEmpty(account)) return null;
            var uri = new Uri(ServiceUri(account) + "/" + s.Container);
            if (!string.IsNullOrEmpty(key)) return new BlobContainerClient(uri, new StorageSharedKeyCredential(account, key), options);
            if (!string.IsNullOrEmpty(sas)) return new BlobContainerClient(uri, new AzureSasCredential(sas.TrimStart('?')), options);
            return null;
        }

        if (Env("AZURE_STORAGE_CONNECTION_STRING") is { Length: > 0 } envConn)
            return new BlobContainerClient(envConn, s.Container, options);
        if (FromAccount(Env("AZURE_STORAGE_ACCOUNT"), Env("AZURE_STORAGE_KEY"), Env("AZURE_STORAGE_SAS_TOKEN")) is { } fromEnv)
            return fromEnv;
        if (!string.IsNullOrEmpty(s.CredentialsFile) && File.Exists(s.CredentialsFile))
            return new BlobContainerClient(File.ReadAllText(s.CredentialsFile).Trim(), s.Container, options);
        if (!string.IsNullOrEmpty(s.ConnectionString)) return new BlobContainerClient(s.ConnectionString, s.Container, options);
        return FromAccount(s.AccountName, s.AccountKey, s.SasToken)
               ?? throw new ArgumentException("store.object.azure: no credentials (connection string, account key or SAS)");
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        await _container.GetBlobClient(FullKey(key)).UploadAsync(BinaryData.FromBytes(data), overwrite: true, ct);

    public async Task PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        // Large files go up in blocks committed at once at the end: readers see the old blob or the new one.
        await _container.GetBlobClient(FullKey(key)).UploadAsync(path, new BlobUploadOptions
        {
            TransferOptions = new StorageTransferOptions { InitialTransferSize = 64 << 20, MaximumTransferSize = 16 << 20 },
        }, ct);
        File.Delete(path);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        try
        {
            var result = await _container.GetBlobClient(FullKey(key)).DownloadContentAsync(ct);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default)
    {
        var blob = _container.GetBlobClient(FullKey(key));
        try
        {
            if (length <= 0) return await blob.ExistsAsync(ct) ? [] : null;
            var range = new BlobDownloadOptions { Range = new HttpRange(offset, length) };
            var result = await blob.DownloadContentAsync(range, ct);
            return result.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            return await blob.ExistsAsync(ct) ? [] : null;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default) =>
        await _container.GetBlobClient(FullKey(key)).DeleteIfExistsAsync(cancellationToken: ct);

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var blob in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, _prefix + prefix, ct))
            yield return new ObjectInfo(blob.Name[_prefix.Length..], blob.Properties.ContentLength ?? 0);
    }

    private string FullKey(string key) => _prefix + ObjectKey.Validate(key);
}
