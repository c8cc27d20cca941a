using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Rpc.V1;

namespace MoleSignal.Grains.Federation;

/// <summary>
/// Calls a remote cluster's <c>Scan</c> service: <c>http://</c> when the cluster's <c>tls_verify</c> is off,
/// else <c>https://</c> with the certificate verified; the Bearer token from the cluster's secret reference (never
/// the user's own credentials); the org of the query in <c>organization</c>. One channel per address, kept.
/// </summary>
public sealed class RemoteScanClient(ISecretStore secrets, int maxMessageBytes) : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();

    /// <summary>A remote cluster's refusal or failure, with the reason a federated answer reports.</summary>
    public sealed class RemoteScanException(string result, string reason) : Exception(reason)
    {
        /// <summary>The metric label: unreachable, unauthenticated, forbidden, timeout, error.</summary>
        public string Result { get; } = result;
    }

    public async IAsyncEnumerable<ArrowChunk> ScanAsync(RemoteCluster cluster, string org, StreamScanRequest request,
        TimeSpan timeout, [EnumeratorCancellation] CancellationToken ct)
    {
        var token = await secrets.RevealAsync(cluster.SecretOrg, cluster.TokenSecretRef, ct);
        if (string.IsNullOrEmpty(token))
            throw new RemoteScanException("unauthenticated", $"the token secret {cluster.TokenSecretRef} is not set");
        var headers = new Grpc.Core.Metadata { { "authorization", "Bearer " + token }, { "organization", org } };
        var client = new Scan.ScanClient(Channel(cluster));
        using var call = client.Scan(request, new CallOptions(headers, DateTime.UtcNow + timeout, ct));
        var stream = call.ResponseStream;
        while (true)
        {
            bool more;
            try
            {
                more = await stream.MoveNext(ct);
            }
            catch (RpcException e) when (!ct.IsCancellationRequested)
            {
                throw Failure(e);
            }
            if (!more) yield break;
            yield return new ArrowChunk(stream.Current.ArrowIpc.Memory, stream.Current.Rows);
        }
    }

    private static RemoteScanException Failure(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unavailable => new("unreachable", $"unreachable: {e.Status.Detail}"),
        StatusCode.DeadlineExceeded => new("timeout", "no answer within [federation].remote_timeout_secs"),
        StatusCode.Unauthenticated => new("unauthenticated", $"the remote refused the token: {e.Status.Detail}"),
        StatusCode.PermissionDenied => new("forbidden", $"the remote refused access: {e.Status.Detail}"),
        _ => new("error", $"{e.StatusCode}: {e.Status.Detail}"),
    };

    private GrpcChannel Channel(RemoteCluster c) =>
        _channels.GetOrAdd((c.TlsVerify ? "https://" : "http://") + c.AdvertiseAddr, address =>
            GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                MaxReceiveMessageSize = maxMessageBytes,
                MaxSendMessageSize = maxMessageBytes,
            }));

    public void Dispose()
    {
        foreach (var c in _channels.Values) c.Dispose();
    }
}
