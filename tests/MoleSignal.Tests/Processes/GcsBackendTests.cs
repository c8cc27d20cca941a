using System.Net;
using System.Text;
using MoleSignal.Grains.Storage;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Processes;

/// <summary>The binary on the gcs backend (Google's emulator): startup probe, ingest into objects, queries, the degraded path.</summary>
[Collection(ProcessCollection.Name)]
public sealed class GcsBackendTests(GcsEmulator gcs) : IClassFixture<GcsEmulator>
{
    [Fact]
    public async Task Ingest_lands_in_objects_queries_read_them_and_an_outage_degrades_health_until_it_ends()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_STORE.OBJECT.BACKEND"] = "gcs";
        env["MS_STORE.OBJECT.GCS.BUCKET"] = GcsEmulator.Bucket;
        env["MS_STORE.OBJECT.GCS.PREFIX"] = "e2e/";
        env["MS_STORE.OBJECT.GCS.ENDPOINT"] = gcs.Endpoint;
        env["MS_STORE.OBJECT.HEALTH_PROBE_INTERVAL_SECS"] = "1";
        env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();

        var body = new StringBuilder();
        for (var i = 0; i < 500; i++) body.Append($"{{\"i\":{i},\"message\":\"gcs record {i}\"}}\n");
        using (var resp = await node.Http.PostAsync("/api/v1/ingest/app", new StringContent(body.ToString())))
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var bucket = new GcsObjectStore(new GcsStoreSettings(GcsEmulator.Bucket, "e2e/", gcs.Endpoint, "", ""), new Dictionary<string, string?>());
        await Poll.UntilAsync(async () =>
        {
            var n = 0;
            await foreach (var o in bucket.ListAsync("default/logs/app/")) if (o.Key.EndsWith(".parquet")) n++;
            return n;
        }, n => n > 0, TimeSpan.FromSeconds(60), "a data file in the bucket");
        var rows = await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
            new { sql = "SELECT count(*), count(DISTINCT i) FROM app WHERE match_all('gcs')" });
        Assert.Equal(500, rows.GetProperty("rows")[0][0].GetInt64());
        Assert.Equal(500, rows.GetProperty("rows")[0][1].GetInt64());

        gcs.Stop();
        try
        {
            await Poll.UntilAsync(() => node.StatusAsync("/healthz"), s => s == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(60), "healthz 503 while the store is down");
            Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/readyz"));
        }
        finally
        {
            await gcs.StartAsync();
        }
        await Poll.UntilAsync(() => node.StatusAsync("/healthz"), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
            "healthz 200 once the store is back");
    }
}
