using System.Net;
using System.Text;

namespace MoleSignal.Tests.Processes;

/// <summary>The metadata database stops and comes back under ingest: nothing acknowledged is lost, no restart.</summary>
[Collection(ProcessCollection.Name)]
public sealed class MetadataOutageTests
{
    [Fact]
    public async Task Every_acknowledged_record_reaches_the_files_after_postgres_stops_and_restarts_under_ingest()
    {
        var pg = new PostgresServer();
        await pg.InitializeAsync();
        try
        {
            var db = await pg.CreateDatabaseAsync();
            using var node = MoleSignalNode.Start(new Dictionary<string, string>
            {
                ["MS_STORE.META.BACKEND"] = "postgres",
                ["MS_STORE.META.DSN"] = pg.Dsn(db),
                ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
                ["MS_ROUTER.RATE_LIMIT.INGEST_QPS"] = "0",
            });
            await node.WaitHealthyAsync();
            long acked = 0;
            var n = 0;
            async Task Post()
            {
                var body = string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{{\"message\": \"m {n} {i}\"}}"));
                n++;
                try
                {
                    using var resp = await node.Http.PostAsync("/api/v1/ingest/app", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
                    if (resp.StatusCode == HttpStatusCode.OK) acked += 50;
                    else Assert.True((int)resp.StatusCode is 503 or 500, $"{resp.StatusCode}: {await resp.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException)
                {
                    // Not acknowledged: does not count.
                }
            }
            for (var i = 0; i < 20; i++) await Post();
            pg.Stop();
            // The stream's grain is live: its WAL keeps taking appends while flushes fail and retry.
            for (var i = 0; i < 20; i++) await Post();
            var duringOutage = acked;
            await pg.StartAsync();
            for (var i = 0; i < 20; i++) await Post();
            Assert.True(duringOutage > 1000, $"{duringOutage} acknowledged before the restart");
            await Poll.UntilAsync(async () => (await FileRowsAsync(pg, db)), rows => rows == acked, TimeSpan.FromSeconds(120),
                $"all {acked} acknowledged records in files");
            Assert.False(node.Process.HasExited);
        }
        finally
        {
            await pg.DisposeAsync();
        }
    }

    private static async Task<long> FileRowsAsync(PostgresServer pg, string db)
    {
        await using var meta = MoleSignal.Grains.Metadata.MetaStore.Postgres(pg.Dsn(db), 2);
        return Convert.ToInt64(await meta.ScalarAsync("SELECT COALESCE(SUM(rows), 0) FROM file_meta"));
    }
}
