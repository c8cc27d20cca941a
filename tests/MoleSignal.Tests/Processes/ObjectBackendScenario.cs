using System.Net;
using System.Text;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Processes;

/// <summary>
/// One run of the binary on a cloud backend: the startup probe passes, ingest lands in data files, a match_all query
/// reads them, and an outage of the store turns /healthz to 503 (/readyz stays 200) until the store is back.
/// </summary>
public static class ObjectBackendScenario
{
    public static async Task RunAsync(Dictionary<string, string> env, string word, Func<Task<int>> countDataFiles,
        Action stopStore, Func<Task> startStore)
    {
        env["MS_STORE.OBJECT.HEALTH_PROBE_INTERVAL_SECS"] = "1";
        env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();

        var body = new StringBuilder();
        for (var i = 0; i < 500; i++) body.Append($"{{\"i\":{i},\"message\":\"{word} record {i}\"}}\n");
        using (var resp = await node.Http.PostAsync("/api/v1/ingest/app", new StringContent(body.ToString())))
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        await Poll.UntilAsync(countDataFiles, n => n > 0, TimeSpan.FromSeconds(60), "a data file in the store");
        var rows = await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
            new { sql = $"SELECT count(*), count(DISTINCT i) FROM app WHERE match_all('{word}')" });
        Assert.Equal(500, rows.GetProperty("rows")[0][0].GetInt64());
        Assert.Equal(500, rows.GetProperty("rows")[0][1].GetInt64());

        stopStore();
        try
        {
            await Poll.UntilAsync(() => node.StatusAsync("/healthz"), s => s == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(60), "healthz 503 while the store is down");
            Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/readyz"));
        }
        finally
        {
            await startStore();
        }
        await Poll.UntilAsync(() => node.StatusAsync("/healthz"), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
            "healthz 200 once the store is back");
    }
}
