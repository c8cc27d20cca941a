using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

/// <summary>Flushes to a real S3-compatible server and queries through the bounded local file cache.</summary>
[Collection(ProcessCollection.Name)]
public sealed class RemoteStoreQueryTests(S3Server s3) : IClassFixture<S3Server>
{
    private static double Metric(string metrics, string name) => NodeMetrics.Value(metrics, name);

    [Fact]
    public async Task Queries_over_s3_objects_go_through_a_bounded_cache_and_stay_correct()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_STORE.OBJECT.BACKEND"] = "s3",
            ["MS_STORE.OBJECT.S3.BUCKET"] = S3Server.Bucket,
            ["MS_STORE.OBJECT.S3.ENDPOINT"] = s3.Endpoint,
            ["MS_STORE.OBJECT.S3.PREFIX"] = "q" + Guid.NewGuid().ToString("N")[..8],
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "2",
            ["MS_QUERIER.CACHE_MAX_MB"] = "1",
        });
        await node.WaitHealthyAsync();
        var data = GenLogs.Generate(30_000);
        var lines = Encoding.UTF8.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await NodeQueries.IngestAsync(node.Http, "bench", lines, 3_000);
        // Files of ~1 MiB or more against a 1 MiB cache: every query must evict.
        await Poll.UntilAsync(async () => (await NodeQueries.StreamAsync(node.Http, "bench"))!.Value.GetProperty("files").GetInt64(),
            files => files >= 2, TimeSpan.FromSeconds(90), "files flushed to S3");

        var errors = lines.Count(l => l.Contains("\"level\":\"ERROR\""));
        for (var round = 0; round < 2; round++)
        {
            using var resp = await node.Http.PostAsJsonAsync("/api/v1/query", new { sql = "SELECT count(*) FROM bench WHERE level = 'ERROR'" });
            var body = await resp.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(resp.StatusCode == HttpStatusCode.OK, body.ToString());
            Assert.Equal(errors, body.GetProperty("rows")[0][0].GetInt32());
        }
        var metrics = await node.Http.GetStringAsync("/metrics");
        Assert.True(Metric(metrics, "cache_misses_total") > 0, "files were fetched from the store");
        Assert.True(Metric(metrics, "cache_invalidations_total") > 0, "the 1 MiB bound evicted files");
        Assert.True(Metric(metrics, "cache_bytes") <= 1 << 20, $"cache holds {Metric(metrics, "cache_bytes")} bytes");
        var cacheDir = Path.Combine(node.WorkDir, "data", "cache", "objects");
        Assert.True(Directory.EnumerateFiles(cacheDir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) <= 1 << 20);
    }
}
