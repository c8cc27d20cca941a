using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Federation;

namespace MoleSignal.Grains.Query;

/// <summary><c>SELECT count(*) FROM stream</c> (no WHERE, no time range) answered from the catalog's record count
/// (files + buffer, no scan), plus, over clusters, each remote's count from its own metadata.</summary>
internal sealed class CountAllShortcut(IStreamCatalog catalog)
{
    /// <summary>The count and what it stands for; null when the stream is unknown here.</summary>
    public async Task<(long Count, QueryStats Stats)?> CountAsync(QueryRequest request, TableRef table,
        FederatedQuery? federation, CancellationToken ct)
    {
        var key = new StreamKey(request.Org, table.Type, table.Name);
        if (await catalog.GetAsync(key, ct) is not { } info) return null;
        if (federation is null)
            return (info.Records, new QueryStats(info.Records, info.CompressedBytes, info.Files, 0));
        var (count, files, fileBytes) = federation.IncludeLocal ? (info.Records, info.Files, info.CompressedBytes)
            : (0L, 0L, 0L);
        var scan = StreamBinder.RemoteRequest(table, long.MinValue, long.MaxValue);
        scan.Sql = $"SELECT count(*) FROM {DuckSql.Identifier(table.Type)}.{DuckSql.Identifier(table.Name)}";
        var (remote, bytes) = await federation.CountAsync(scan, ct);
        var total = count + remote;
        return (total, new QueryStats(total, fileBytes + bytes, files, 0, federation.Stats()));
    }
}
