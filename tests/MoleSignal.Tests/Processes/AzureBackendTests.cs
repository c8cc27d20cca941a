using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
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
        env["AZURE_STORAGE_CONNECTION_STRING"] = azurite.ConnectionString;
        var container = new BlobContainerClient(azurite.ConnectionString, AzuriteServer.Container);
        await ObjectBackendScenario.RunAsync(env, "azure", async () =>
        {
            var n = 0;
            await foreach (var b in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "e2e/default/logs/app/", default))
                if (b.Name.EndsWith(".parquet")) n++;
            return n;
        }, azurite.Stop, azurite.StartAsync);
    }
}
