using System.Net;
using System.Text;
using Azure.Storage.Blobs;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Processes;

/// <summary>The binary on the azure backend (azurite): startup probe, ingest into files, queries, the degraded path.</summary>
[Collection(ProcessCollection.Name)]
public sealed class AzureBackendTests(AzuriteServer azurite) : IClassFixture<AzuriteServer>
{
    [Fact]
    public async Task Ingest_lands_in_blobs_queries_read_them_and_an_outage_degrades_health_until_it_ends()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_STORE.OBJECT.BACKEND"] = "azure";
        env["MS_STORE.OBJECT.AZURE.CONTAINER"] = AzuriteServer.Container;
        env["MS_STORE.OBJECT.AZURE.PREFIX"] = "e2e/";
        env["MS_STORE.OBJECT.HEALTH_PROBE_INTERVAL_SECS"] = "1";
        env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1";
        env["AZURE_STORAGE_CONNECTION_STRING"] = azurite.ConnectionString;
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();

        var body = new StringBuilder();
        for (var i = 0; i < 500; i++) body.Append($"{{\"i\":{i},\"message\":\"azure record {i}\"}}\n");
        using (var resp = await node.Http.PostAsync("/api/v1/ingest/app", new StringContent(body.ToString())))
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var container = new BlobContainerClient(azurite.ConnectionString, AzuriteServer.Container);
        await Poll.UntilAsync(async () =>
        {
            var n = 0;
            await foreach (var b in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "e2e/default/logs/app/", default)) if (b.Name.EndsWith(".parquet")) n++;
            return n;
        }, n => n > 0, TimeSpan.FromSeconds(60), "a data file in the container");
        var rows = await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
            new { sql = "SELECT count(*), count(DISTINCT i) FROM app WHERE match_all('azure')" });
        Assert.Equal(500, rows.GetProperty("rows")[0][0].GetInt64());
        Assert.Equal(500, rows.GetProperty("rows")[0][1].GetInt64());

        azurite.Stop();
        try
        {
            await Poll.UntilAsync(() => node.StatusAsync("/healthz"), s => s == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(60), "healthz 503 while the store is down");
            Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/readyz"));
        }
        finally
        {
            await azurite.StartAsync();
        }
        await Poll.UntilAsync(() => node.StatusAsync("/healthz"), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
            "healthz 200 once the store is back");
    }
}
