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

    /// <summary>
    /// Scans the stream on every remote cluster still healthy, at once; each one's chunks go into a TEMP table of
    /// its own (one at a time: one connection). Returns the tagged parts and the rows and bytes received.
    /// </summary>
    /// <param name="requests">What each healthy remote is asked (made before: the connection serves the appends).
    /// </param>
    /// <param name="budget">Bytes the remote chunks may take in all before the query is refused (413).</param>
    /// <param name="tag">Add the <c>_cluster</c> column (rows; a partial statement names its cluster itself).</param>
    public async Task<(List<string> Parts, long Rows, long Bytes)> ScanAsync(DuckDBConnection conn,
        IReadOnlyDictionary<string, StreamScanRequest> requests, long budget, bool tag, CancellationToken ct)
    {
        var table = Interlocked.Increment(ref _tables);
        var loading = new SemaphoreSlim(1);
        long rows = 0, bytes = 0;
        var parts = new ConcurrentBag<string>();
        await Task.WhenAll(Healthy.Where(r => requests.ContainsKey(r.Name)).ToList().Select(async (remote, i) =>
        {
            var name = $"__ms_fed_{table}_{i}";
            var created = false;
            var clock = Stopwatch.StartNew();
            try
            {
                await foreach (var chunk in client.ScanAsync(remote, org, requests[remote.Name], timeout, ct))
                {
                    if (Interlocked.Add(ref bytes, chunk.ArrowIpc.Length) > budget)
                        throw new QueryException(413, "memory_limit",
                            $"the remote clusters' rows exceed {budget >> 20} MiB (querier.memory_limit_mb): " +
                            "narrow the query");
                    Interlocked.Add(ref rows, chunk.Rows);
                    await loading.WaitAsync(ct);
                    try
                    {
                        ArrowImport.Append(conn, name, chunk.ArrowIpc, create: !created);
                        created = true;
                    }
                    finally
                    {
                        loading.Release();
                    }
                }
                FederationMetrics.RemoteScans.WithLabels(remote.Name, "ok").Inc();
                var part = $"SELECT * FROM {DuckSql.Identifier(name)}";
                if (created) parts.Add(tag ? Tag(part, remote.Name) : part);
            }
            catch (RemoteScanClient.RemoteScanException e)
            {
                FederationMetrics.RemoteScans.WithLabels(remote.Name, e.Result).Inc();
                _degraded[remote.Name] = e.Message;
                await Drop(conn, loading, name, created);
            }
            catch (Exception e) when (e is not QueryException && !ct.IsCancellationRequested)
            {
                FederationMetrics.RemoteScans.WithLabels(remote.Name, "error").Inc();
                _degraded[remote.Name] = $"its rows could not be read: {e.Message}";
                await Drop(conn, loading, name, created);
            }
            finally
            {
                FederationMetrics.RemoteScanDuration.Observe(clock.Elapsed.TotalSeconds);
            }
        }));
        return (parts.ToList(), rows, bytes);
    }

    private static async Task Drop(DuckDBConnection conn, SemaphoreSlim loading, string table, bool created)
    {
        if (!created) return;
        await loading.WaitAsync(CancellationToken.None);
        try
        {
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"DROP TABLE IF EXISTS {DuckSql.Identifier(table)}";
            cmd.ExecuteNonQuery();
        }
        finally
        {
            loading.Release();
        }
    }
}
