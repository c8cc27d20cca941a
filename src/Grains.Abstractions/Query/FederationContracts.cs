using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Grains.Abstractions.Query;

/// <summary>The cluster names of a federated query: this cluster is always <see cref="Local"/>.</summary>
public static class ClusterTargets
{
    public const string Local = "local";

    /// <summary>The column every federated view carries: the name of the cluster a row came from.</summary>
    public const string Column = "_cluster";

    /// <summary>A target list that reads anything but this cluster needs the federation feature.</summary>
    public static bool AnyRemote(IReadOnlyList<string>? clusters) =>
        clusters is not null && clusters.Any(c => c != Local);
}

/// <param name="Scanned">Clusters whose rows the answer holds (<c>local</c> included).</param>
/// <param name="Degraded">Remote clusters asked for but not read, each with its reason.</param>
public sealed record FederationStats(IReadOnlyList<string> Scanned, IReadOnlyDictionary<string, string> Degraded);

/// <summary>
/// A remote cluster a federated query may read: where its gRPC port is, the secret reference of the Bearer token
/// sent to it (<c>env:VAR</c> or <c>cipher_keys:&lt;id&gt;</c> of the org <see cref="SecretOrg"/>), whether to use
/// TLS with certificate verification (<c>false</c>: plain <c>http://</c>), and whether fan-out includes it.
/// </summary>
public sealed record RemoteCluster(string Name, string AdvertiseAddr, string TokenSecretRef, bool TlsVerify,
    bool Enabled, long UpdatedAtMicros, string SecretOrg = "default");

/// <summary>The <c>remote_clusters</c> table: root's to change, every change audited by the caller.</summary>
public interface IRemoteClusters
{
    Task<IReadOnlyList<RemoteCluster>> ListAsync(CancellationToken ct);

    Task<RemoteCluster?> GetAsync(string name, CancellationToken ct);

    /// <summary>Creates or replaces; throws <see cref="AuthException"/> (invalid) for a bad name, address or
    /// reference.</summary>
    Task<RemoteCluster> PutAsync(RemoteCluster cluster, CancellationToken ct);

    Task<bool> DeleteAsync(string name, CancellationToken ct);
}

/// <summary>
/// What the remote side of a federated query scans: one stream of <see cref="Org"/>, its <see cref="Columns"/>
/// (empty: all) where <see cref="Filter"/> holds, in the time range, optionally only the newest n rows; or, with
/// <see cref="Sql"/>, that SELECT over the stream in the time range.
/// </summary>
public sealed record StreamScan(string Org, string StreamType, string Stream, IReadOnlyList<string> Columns,
    string? Filter, long? StartTime, long? EndTime, long Newest, string? Sql = null)
{
    /// <summary>The scan a request asks of <paramref name="org"/> (no stream type: logs).</summary>
    public static StreamScan Of(string org, Rpc.V1.StreamScanRequest request) =>
        new(org, request.StreamType is "" ? "logs" : request.StreamType, request.Stream, request.Columns,
            request.Filter, request.HasStartTime ? request.StartTime : null,
            request.HasEndTime ? request.EndTime : null, request.Newest, request.Sql);
}

/// <summary>
/// A part of a scan's rows: one whole Arrow IPC stream, possibly in a pooled buffer that <see cref="Dispose"/> gives
/// back (so a long scan reuses a few buffers instead of leaving one behind per chunk).
/// </summary>
public sealed class ArrowChunk(ReadOnlyMemory<byte> arrowIpc, long rows, Action? release = null) : IDisposable
{
    private Action? _release = release;

    public ReadOnlyMemory<byte> ArrowIpc { get; } = arrowIpc;

    public long Rows { get; } = rows;

    /// <summary>The bytes must not be read after this.</summary>
    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}

/// <summary>Runs a <see cref="StreamScan"/> as a query of its org (the same gate, pruning and limits).</summary>
public interface IStreamScanner
{
    /// <summary>Throws <see cref="QueryException"/> for anything the caller should be told.</summary>
    IAsyncEnumerable<ArrowChunk> ScanAsync(StreamScan scan, CancellationToken ct);
}
