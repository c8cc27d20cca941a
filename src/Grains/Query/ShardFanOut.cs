using System.IO.Hashing;
using System.Text;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Columnar;

namespace MoleSignal.Grains.Query;

/// <summary>
/// A distributed single-stream query: the querier count, the SELECT each shard runs (projection and filter of the
/// statement, given the stream's fields and whether the index answered its match_all terms), and whether the
/// statement reads its stream only once (then the shards' Arrow chunks are scanned in place instead of copied into
/// tables).
/// </summary>
internal sealed record Distribution(int Queriers,
    Func<IReadOnlyList<(string Name, string Type)>, bool, string> ShardSql, bool SinglePass);

/// <summary>
/// Files sharded by hash(object_key) % queriers, each shard scanned by its ScanGrain on a querier silo and its
/// Arrow chunks bound on the coordinator; a shard whose querier fails is read on the coordinator instead (the
/// query never hangs on a dead querier and never loses its rows).
/// </summary>
internal sealed class ShardFanOut(LiveSettings<QuerySettings> settings, IGrainFactory grains, ObjectFiles files,
    FullTextFields text, QuerierSilos? queriers)
{
    /// <summary>
    /// Single-stream queries go distributed with at least two querier silos; anything else, or fewer queriers,
    /// runs here with no network hop.
    /// </summary>
    /// <param name="federated">The view also tags and unions remote rows: shard chunks are copied into tables, never
    /// scanned in place (a one-pass Arrow view under that wrapper is not a shape proven safe).</param>
    public Distribution? Plan(DuckDBConnection conn, SqlShape shape, bool federated)
    {
        if (queriers is null || shape.Tables.Count != 1) return null;
        var count = queriers.Active().Count;
        if (count < 2) return null;
        var view = SqlInspector.ViewName(shape.Tables[0]);
        // The newest n rows overall are among each shard's newest n.
        var latest = shape.LatestN is { } n ? $" ORDER BY _timestamp DESC LIMIT {n}" : "";
        // Newest-n binding reads the view twice (its _timestamp floor, then the statement).
        var singlePass = shape.LatestN is null && shape.ReadsStreamOnce && !federated;
        // Shards run the statement's filter as the coordinator will (match_all dropped where the index answered
        // it), so they ship exactly the columns the coordinator reads: DuckDB maps the columns of a one-pass Arrow
        // view by position once it pushes a projection into it, so a shipped column the statement never names
        // would shift the others.
        return new Distribution(count, (fields, matchedByIndex) =>
            ScanPushdown.ShardSql(conn, MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, text.Of(fields),
                matchedByIndex ? shape.MatchAllConjunctAt : []), view, fields) + latest, singlePass);
    }

    /// <summary>The shards' rows as parts of the stream's view (SELECTs over tables or Arrow views).</summary>
    public async Task<List<string>> ScanAsync(DuckDBConnection conn, Distribution distribution, string view,
        string org, (string Name, string Type)[] fields, List<ScanFile> scan, long minTs, long maxTs,
        bool matchedByIndex, QueryHolds held, CancellationToken ct)
    {
        var sql = distribution.ShardSql(fields, matchedByIndex);
        var loading = new SemaphoreSlim(1); // one DuckDB connection: chunks load one at a time
        // Shipped chunks are held here until the statement ends: they count against the query's memory limit.
        var budget = (long)settings.Current.MemoryLimitMb << 20;
        long shipped = 0;
        var shards = scan.GroupBy(f =>
            (int)(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(f.ObjectKey)) % (ulong)distribution.Queriers));
        var results = await Task.WhenAll(shards.Select(async shard =>
        {
            var table = $"__ms_shard_{shard.Key}";
            var parts = new List<string>();
            var request = new ScanRequest(org, view, fields, shard.ToArray(), minTs, maxTs, sql);
            try
            {
                var scanner = grains.GetGrain<IScanGrain>($"{distribution.Queriers}:{shard.Key}");
                await foreach (var chunk in scanner.Scan(request, ct).WithBatchSize(1).WithCancellation(ct))
                {
                    if (Interlocked.Add(ref shipped, chunk.ArrowIpc.Length) > budget)
                        throw new QueryException(QueryErrorKind.TooLarge, "memory_limit",
                            $"the shards' rows exceed {budget >> 20} MiB (querier.memory_limit_mb): narrow the query");
                    await loading.WaitAsync(ct);
                    try
                    {
                        if (distribution.SinglePass)
                        {
                            var name = $"{table}_{parts.Count}_{Guid.NewGuid():N}"; // a shared catalog's view
                            held.ArrowViews.Add(ArrowImport.Register(conn, name, chunk.ArrowIpc));
                            parts.Add($"SELECT * FROM {DuckSql.Identifier(name)}");
                        }
                        else
                        {
                            ArrowImport.Append(conn, table, chunk.ArrowIpc, create: parts.Count == 0);
                            if (parts.Count == 0) parts.Add($"SELECT * FROM {DuckSql.Identifier(table)}");
                        }
                    }
                    finally
                    {
                        loading.Release();
                    }
                }
                QueryMetrics.Shards.WithLabels("remote").Inc();
                return (Parts: parts, Retry: (List<ScanFile>?)null);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not QueryException)
            {
                // What arrived of the shard is dropped (its views are never named): all its files are read here.
                await loading.WaitAsync(CancellationToken.None);
                try { QueryService.Exec(conn, $"DROP TABLE IF EXISTS {DuckSql.Identifier(table)}"); }
                finally { loading.Release(); }
                QueryMetrics.Shards.WithLabels("local_retry").Inc();
                return (Parts: new List<string>(), Retry: shard.ToList());
            }
        }));
        var parts = results.SelectMany(r => r.Parts).ToList();
        var retry = results.Where(r => r.Retry is not null).SelectMany(r => r.Retry!).ToList();
        if (retry.Count > 0) parts.AddRange(StreamView.FileParts(await files.PinAsync(retry, held.Pinned, ct)));
        return parts;
    }
}
