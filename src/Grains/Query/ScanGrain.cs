using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Storage;
using Orleans.Concurrency;

namespace MoleSignal.Grains.Query;

/// <summary>
/// One shard of distributed queries, on a querier silo: binds the shard's files as the stream's view on the
/// org's sandboxed DuckDB instance, runs the pushed-down SELECT, and returns its rows as Arrow IPC chunks while
/// it reads them. Reentrant: shards of concurrent queries scan at once (the work runs off the grain's turn).
/// </summary>
[Reentrant, QuerierPlacement]
public sealed class ScanGrain(ObjectFiles files, OrgEngines engines, LiveSettings<QuerySettings> settings) : Grain, IScanGrain
{
    public async IAsyncEnumerable<ScanChunk> Scan(ScanRequest request, [EnumeratorCancellation] CancellationToken ct = default)
    {
        // Files are read on the org's engine, which may read only that org's directory; checked before any is fetched.
        foreach (var f in request.Files)
            if (!ObjectKey.IsOrgData(request.Org, f.ObjectKey))
                throw new QueryException(QueryErrorKind.Forbidden, "forbidden", "a shard may only read its own org's data files");
        // Stopped by the caller, by the query timeout, or by the caller walking away (the finally below).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(settings.Current.Timeout);
        var pinned = new List<string>();
        Task? produce = null;
        QueryMetrics.ShardScansRunning.Inc();
        try
        {
            var local = await files.PinAsync(request.Files, pinned, stop.Token);
            // DuckDB reads ahead at most two chunks of what the caller has not taken yet.
            var chunks = Channel.CreateBounded<ArrowChunk>(2);
            produce = Task.Run(() => Produce(request, local, chunks.Writer, stop.Token), CancellationToken.None);
            await foreach (var chunk in chunks.Reader.ReadAllAsync(stop.Token))
                using (chunk)
                    yield return new ScanChunk(chunk.ArrowIpc.ToArray(), chunk.Rows);
        }
        finally
        {
            // The scan must be over before its files may leave the cache.
            stop.Cancel();
            if (produce is not null) await produce;
            files.Unpin(pinned);
            QueryMetrics.ShardScansRunning.Dec();
        }
    }

    /// <summary>Runs on the thread pool: DuckDB blocks while it scans. Ends <paramref name="output"/>, with the
    /// failure if any.</summary>
    private async Task Produce(ScanRequest request, List<(string Path, long[]? Rows)> local,
        ChannelWriter<ArrowChunk> output, CancellationToken ct)
    {
        try
        {
            using var conn = engines.Connect(request.Org);
            // Scan RPC inside the cluster is unauthenticated (as the spec's): the shard's SELECT passes the same
            // gate as a user's, on the same locked per-org engine.
            SqlInspector.CheckRewritten(conn, request.Sql, [request.View]);
            var source = StreamView.Source(request.Fields, StreamView.FileParts(local));
            QueryService.Exec(conn, StreamView.Create(request.View, source, StreamView.Range(request.MinTs, request.MaxTs)));
            using var cmd = conn.CreateCommand();
            cmd.CommandText = request.Sql;
            cmd.UseStreamingMode = true;
            await ArrowChunks.ProduceAsync(cmd, output, e => e, ct);
        }
        catch (Exception e)
        {
            output.TryComplete(e);
        }
    }
}
