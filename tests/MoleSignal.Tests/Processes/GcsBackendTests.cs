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
        var bucket = new GcsObjectStore(new GcsStoreSettings(GcsEmulator.Bucket, "e2e/", gcs.Endpoint, "", ""),
            new Dictionary<string, string?>());
        await ObjectBackendScenario.RunAsync(env, "gcs", async () =>
        {
            var n = 0;
            await foreach (var o in bucket.ListAsync("default/logs/app/")) if (o.Key.EndsWith(".parquet")) n++;
            return n;
        }, gcs.Stop, gcs.StartAsync);
    }
}
