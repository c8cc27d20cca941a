using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Federation;
using MoleSignal.Grains.Ingest;

namespace MoleSignal.Grains.Query;

/// <summary>
/// A federated aggregate over one stream split into partials (<see cref="PartialAggregation"/>): this cluster's
/// partial runs as a query of its own (its pruning, index and buffer), each remote's as its Scan's statement, and
/// the stream's view becomes the union of their rows (one per group and cluster, and an empty cluster's row for a
/// statement without GROUP BY), over which the final statement runs.
/// </summary>
/// <param name="openNested">Opens this cluster's partial as a query that takes no slot (its caller holds one).
/// </param>
internal sealed class FederatedPartials(LiveSettings<QuerySettings> settings, IGrainFactory grains,
    StreamBinder binder, Func<QueryRequest, CancellationToken, Task<IArrowCursor>> openNested)
{
    /// <summary>The final statement and what was scanned for it; null when the statement does not split: it is
    /// then bound row by row.</summary>
    public async Task<(string Final, QueryStats Scanned)?> BindAsync(DuckDBConnection conn, QueryRequest request,
        TableRef table, FederatedQuery federation, SqlShape shape, long minTs, long maxTs, CancellationToken ct)
    {
        var key = new StreamKey(request.Org, table.Type, table.Name);
        await binder.RequireStreamAsync(table, key, ct);
        var view = SqlInspector.ViewName(table);
        // The live schema (fields of unflushed records included), no records: an empty time range.
        var live = await grains.GetGrain<IStreamGrain>(key.GrainKey).GetBuffered(long.MaxValue, long.MinValue);
        (string Name, string Type)[] fields = [.. live.Fields, (ClusterTargets.Column, "utf8")];
        var schema = string.Join(",", fields.Select(f => $"{f.Name}:{f.Type}"));
        // A known statement (a dashboard's, a benchmark's) needs no typed view to be planned.
        if (!PartialAggregation.Known(shape.Sql, schema, out var plan))
        {
            QueryService.Exec(conn, StreamView.Create(view, StreamView.Source(fields, []), []));
            plan = PartialAggregation.TryPlan(conn, shape.Sql, view, schema);
        }
        if (plan is null) return null;
        List<string> parts = [plan.Empty];
        var remoteRequests = federation.Healthy.ToDictionary(r => r.Name, r =>
        {
            var scan = StreamBinder.RemoteRequest(table, minTs, maxTs);
            scan.Sql = plan.Partial(conn, r.Name);
            return scan;
        });
        // This cluster's partial runs on a connection of its own while the remotes answer; its rows are few (one
        // per group) and join the view once both are done (this connection serves the remotes' appends).
        var local = federation.IncludeLocal
            ? LocalPartialAsync(request with
            {
                Sql = plan.Partial(conn, ClusterTargets.Local), Limit = 0, Clusters = null,
            }, ct)
            : Task.FromResult<(List<ArrowChunk> Chunks, QueryStats Stats)>(([], new QueryStats(0, 0, 0, 0)));
        var remotes = federation.ReceiveAsync(remoteRequests, (long)settings.Current.MemoryLimitMb << 20, ct);
        await Task.WhenAll(local, remotes);
        var (chunks, stats) = await local;
        parts.AddRange(federation.Load(conn, [new(ClusterTargets.Local, chunks)], tag: false).Parts);
        var remote = federation.Load(conn, await remotes, tag: false);
        parts.AddRange(remote.Parts);
        QueryService.Exec(conn, $"CREATE OR REPLACE TEMP VIEW {DuckSql.Identifier(view)} AS " +
                                string.Join(" UNION ALL BY NAME ", parts));
        return (plan.Final, stats with
        {
            ScannedRows = stats.ScannedRows + remote.Rows, ScannedBytes = stats.ScannedBytes + remote.Bytes,
        });
    }

    private async Task<(List<ArrowChunk> Chunks, QueryStats Stats)> LocalPartialAsync(QueryRequest partial,
        CancellationToken ct)
    {
        var chunks = new List<ArrowChunk>();
        await using var cursor = await openNested(partial, ct);
        await foreach (var chunk in cursor.ReadArrowAsync(ct)) chunks.Add(chunk);
        return (chunks, cursor.Stats);
    }
}
