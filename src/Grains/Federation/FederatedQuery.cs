using System.Collections.Concurrent;
using System.Diagnostics;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Columnar;
using MoleSignal.Rpc.V1;

namespace MoleSignal.Grains.Federation;

/// <summary>
/// One federated query: whether it reads this cluster, the remote clusters it scans, and what became of each.
/// Each stream's view gets a <c>_cluster</c> column: <c>local</c> for this cluster's rows, the remote's name for
/// the rows it sent. A remote that fails is reported degraded and what it sent is dropped; the query goes on.
/// </summary>
public sealed class FederatedQuery(string org, bool includeLocal, IReadOnlyList<RemoteCluster> remotes,
    Dictionary<string, string> degraded, RemoteScanClient client, TimeSpan timeout)
{
    private readonly ConcurrentDictionary<string, string> _degraded = new(degraded);
    private int _tables;

    public bool IncludeLocal => includeLocal;

    /// <summary>The remote clusters still to be scanned (enabled, not failed so far).</summary>
    public IEnumerable<RemoteCluster> Healthy => remotes.Where(r => !_degraded.ContainsKey(r.Name));

    /// <summary>What the answer reports: the clusters whose rows it holds, and those it lacks with the
    /// reason.</summary>
    public FederationStats Stats()
    {
        var scanned = Healthy.Select(r => r.Name).ToList();
        if (includeLocal) scanned.Insert(0, ClusterTargets.Local);
        return new FederationStats(scanned, new SortedDictionary<string, string>(_degraded));
    }

    /// <summary>A part of the view tagged with the cluster its rows come from.</summary>
    public static string Tag(string part, string cluster) =>
        $"SELECT *, {DuckSql.Literal(cluster)} AS {DuckSql.Identifier(ClusterTargets.Column)} FROM ({part})";

    /// <summary>What one cluster sent, in order.</summary>
    public sealed record Received(string Cluster, List<ArrowChunk> Chunks);

    /// <summary>
    /// Scans the stream on every remote cluster still healthy, at once, and holds what each one sends until
    /// <see cref="Load"/>: the caller binds this cluster's part meanwhile (the connection is its own until then).
    /// A remote that fails is reported degraded and what it sent dropped.
    /// </summary>
    /// <param name="requests">What each healthy remote is asked.</param>
    /// <param name="budget">Bytes the remote chunks may take in all before the query is refused (413).</param>
    public async Task<List<Received>> ReceiveAsync(IReadOnlyDictionary<string, StreamScanRequest> requests,
        long budget, CancellationToken ct)
    {
        long bytes = 0;
        var received = await Task.WhenAll(Healthy.Where(r => requests.ContainsKey(r.Name)).ToList().Select(
            async remote =>
            {
                var chunks = new List<ArrowChunk>();
                var clock = Stopwatch.StartNew();
                try
                {
                    await foreach (var chunk in client.ScanAsync(remote, org, requests[remote.Name], timeout, ct))
                    {
                        if (Interlocked.Add(ref bytes, chunk.ArrowIpc.Length) > budget)
                            throw new QueryException(QueryErrorKind.TooLarge, "memory_limit",
                                $"the remote clusters' rows exceed {budget >> 20} MiB (querier.memory_limit_mb): " +
                                "narrow the query");
                        chunks.Add(chunk);
                    }
                    FederationMetrics.RemoteScans.WithLabels(remote.Name, "ok").Inc();
                    return new Received(remote.Name, chunks);
                }
                catch (RemoteScanClient.RemoteScanException e)
                {
                    FederationMetrics.RemoteScans.WithLabels(remote.Name, e.Result).Inc();
                    _degraded[remote.Name] = e.Message;
                }
                catch (Exception e) when (e is not QueryException && !ct.IsCancellationRequested)
                {
                    FederationMetrics.RemoteScans.WithLabels(remote.Name, "error").Inc();
                    _degraded[remote.Name] = $"its rows could not be read: {e.Message}";
                }
                finally
                {
                    FederationMetrics.RemoteScanDuration.Observe(clock.Elapsed.TotalSeconds);
                }
                return null;
            }));
        return received.OfType<Received>().ToList();
    }

    /// <summary>The stream's record count on every healthy remote, summed: each answers <c>SELECT count(*)</c>
    /// from its own metadata and sends one BIGINT. A remote that fails is reported degraded and not counted.
    /// </summary>
    public async Task<(long Count, long Bytes)> CountAsync(StreamScanRequest request, CancellationToken ct)
    {
        long count = 0, bytes = 0;
        foreach (var (_, chunks) in await ReceiveAsync(Healthy.ToDictionary(r => r.Name, _ => request),
                     long.MaxValue, ct))
            foreach (var chunk in chunks)
            {
                bytes += chunk.ArrowIpc.Length;
                using var reader = new Apache.Arrow.Ipc.ArrowStreamReader(chunk.ArrowIpc);
                while (reader.ReadNextRecordBatch() is { } batch)
                    using (batch)
                        if (batch.Length > 0 && batch.Column(0) is Apache.Arrow.Int64Array counts)
                            count += counts.GetValue(0) ?? 0;
            }
        return (count, bytes);
    }

    /// <summary>The stream scanned on every healthy remote (one request for all) while the caller binds this
    /// cluster's part; disposed before it was awaited, the scans are cancelled.</summary>
    /// <param name="filtered">Whether the request applies the statement's WHERE clause (its rows hold for it).
    /// </param>
    public RemoteScan Start(StreamScanRequest request, long budget, bool filtered, CancellationToken ct)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        return new RemoteScan(ReceiveAsync(Healthy.ToDictionary(r => r.Name, _ => request), budget, cancel.Token),
            filtered, cancel);
    }

    /// <summary>Remote scans under way (<see cref="Start"/>).</summary>
    public sealed class RemoteScan(Task<List<Received>> received, bool filtered, CancellationTokenSource cancel)
        : IAsyncDisposable
    {
        public Task<List<Received>> Received => received;

        /// <summary>Every remote applies the statement's WHERE clause: its rows hold for it.</summary>
        public bool Filtered => filtered;

        public async ValueTask DisposeAsync()
        {
            if (!received.IsCompleted)
            {
                await cancel.CancelAsync();
                try
                {
                    await received;
                }
                catch (Exception e) when (e is OperationCanceledException or QueryException)
                {
                }
            }
            cancel.Dispose();
        }
    }

    /// <summary>Each cluster's chunks in a TEMP table of its own (then given back); returns the parts of the view
    /// that read them (with the <c>_cluster</c> column when <paramref name="tag"/>: rows; a partial statement names
    /// its cluster itself) and the rows and bytes received.</summary>
    public (List<string> Parts, long Rows, long Bytes) Load(DuckDBConnection conn, List<Received> received,
        bool tag)
    {
        var table = Interlocked.Increment(ref _tables);
        long rows = 0, bytes = 0;
        var parts = new List<string>();
        for (var i = 0; i < received.Count; i++)
        {
            var (cluster, chunks) = received[i];
            if (chunks.Count == 0) continue;
            var name = $"__ms_fed_{table}_{i}";
            for (var c = 0; c < chunks.Count; c++)
                using (chunks[c])
                {
                    ArrowImport.Append(conn, name, chunks[c].ArrowIpc, create: c == 0);
                    rows += chunks[c].Rows;
                    bytes += chunks[c].ArrowIpc.Length;
                }
            var part = $"SELECT * FROM {DuckSql.Identifier(name)}";
            parts.Add(tag ? Tag(part, cluster) : part);
        }
        return (parts, rows, bytes);
    }
}
