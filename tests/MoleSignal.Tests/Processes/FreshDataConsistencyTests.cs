using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

[Collection(ProcessCollection.Name)]
public sealed class FreshDataConsistencyTests
{
    /// <summary>
    /// While batches are acknowledged and flushed all the time, every query counts at least what was acknowledged
    /// before it started and at most what was sent when it ended: a record is never missed while it moves from
    /// the buffer into a file, and never counted in both (a double count adds a whole flushed file, ~1,000 rows).
    /// </summary>
    [Fact]
    public async Task Counts_during_flushes_never_miss_or_double_count_a_record()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "1",
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        long acked = 0;
        var done = false;
        var writer = Task.Run(async () =>
        {
            var pad = new string('x', 900);
            for (var b = 0; b < 120; b++)
            {
                var body = new StringBuilder();
                for (var i = 0; i < 100; i++) body.Append($"{{\"_timestamp\":{1767225600000000L + b * 1000 + i},\"message\":\"{pad}\"}}\n");
                using var resp = await node.Http.PostAsync("/api/v1/ingest/fresh", new StringContent(body.ToString()));
                Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
                Interlocked.Add(ref acked, 100);
            }
            Volatile.Write(ref done, true);
        });
        var checks = 0;
        while (!Volatile.Read(ref done) || checks < 5)
        {
            var before = Interlocked.Read(ref acked);
            // Not the count(*) shortcut: a real scan over files and buffer.
            using var resp = await node.Http.PostAsJsonAsync("/api/v1/query", new { sql = "SELECT count(*) FROM fresh WHERE _timestamp > 0" });
            var after = Interlocked.Read(ref acked);
            if (resp.StatusCode == HttpStatusCode.BadRequest && before == 0) continue; // the stream does not exist yet
            if (resp.StatusCode == HttpStatusCode.TooManyRequests) // this loop can outrun [router.rate_limit].query_qps
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                continue;
            }
            var body = await resp.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(resp.StatusCode == HttpStatusCode.OK, body.ToString());
            // The one batch in flight may already be visible before its 200 reaches the writer.
            const int inFlight = 100;
            var count = body.GetProperty("rows")[0][0].GetInt64();
            Assert.InRange(count, before, after + inFlight);
            var totals = await NodeQueries.RecordsAsync(node.Http, "fresh");
            Assert.InRange(totals, before, Interlocked.Read(ref acked) + inFlight);
            checks++;
        }
        await writer;
        Assert.True(checks >= 5);
        // Every record ends up in files, written by more than one flush while the queries ran.
        var files = await Poll.UntilAsync(() => NodeQueries.FilesAsync(node.WorkDir, "fresh"), f => f.Sum(x => x.Rows) == 12_000,
            TimeSpan.FromSeconds(60), "everything flushed");
        Assert.True(files.Count >= 2, $"only {files.Count} flush(es) happened");
    }
}
