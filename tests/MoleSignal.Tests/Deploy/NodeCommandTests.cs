using System.Net;
using System.Text;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Deploy;

/// <summary><c>molesignal healthcheck</c> (the image's HEALTHCHECK) and <c>molesignal drain</c> (an ingester's preStop).</summary>
[Collection(ProcessCollection.Name)]
public sealed class NodeCommandTests
{
    [Fact]
    public async Task Healthcheck_exits_0_for_a_healthy_node_and_1_when_none_answers()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        using (var node = MoleSignalNode.Start(env))
        {
            await node.WaitHealthyAsync();
            var (code, output) = await MoleSignalNode.RunToExitAsync(env, ["healthcheck"]);
            Assert.True(code == 0, output);
            node.Process.Stop();
        }
        var (down, _) = await MoleSignalNode.RunToExitAsync(env, ["healthcheck"]);
        Assert.Equal(1, down);
    }

    [Fact]
    public async Task A_drain_under_ingest_loses_no_acknowledged_record_and_leaves_no_wal()
    {
        using var dir = new TempDir("ms-drain");
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "600"; // everything is in buffers and WALs when the drain starts
        env["MS_ROUTER.RATE_LIMIT.INGEST_QPS"] = "0";
        using var node = MoleSignalNode.Start(env, workDir: dir.Path);
        await node.WaitHealthyAsync();

        var acked = 0L;
        var refused = 0;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 3).Select(c => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var body = new StringBuilder();
                for (var i = 0; i < 50; i++) body.Append($"{{\"client\":{c},\"n\":{n},\"i\":{i}}}\n");
                using var resp = await node.Http.PostAsync($"/api/v1/ingest/drain{c % 2}", new StringContent(body.ToString()));
                if (resp.StatusCode == HttpStatusCode.OK) Interlocked.Add(ref acked, 50);
                else if (resp.StatusCode == HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref refused);
                else throw new InvalidOperationException($"ingest: {(int)resp.StatusCode} {await resp.Content.ReadAsStringAsync()}");
            }
        })).ToArray();
        await Poll.UntilAsync(() => Interlocked.Read(ref acked) >= 2000, TimeSpan.FromSeconds(60), "some records acknowledged");

        var (code, output) = await MoleSignalNode.RunToExitAsync(env, ["drain"]);
        Assert.True(code == 0, output);
        Assert.Contains("done", output);
        // Drained: the node takes nothing more.
        await Poll.UntilAsync(() => Volatile.Read(ref refused) > 0, TimeSpan.FromSeconds(30), "appends refused with 503");
        stop.Cancel();
        await Task.WhenAll(clients);

        var total = 0L;
        foreach (var stream in new[] { "drain0", "drain1" })
            total += (await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql = $"SELECT count(*) FROM {stream}" }))
                .GetProperty("rows")[0][0].GetInt64();
        Assert.Equal(Interlocked.Read(ref acked), total);
        var wal = Path.Combine(dir.Path, "data", "wal");
        Assert.Empty(Directory.Exists(wal) ? Directory.GetFiles(wal, "*", SearchOption.AllDirectories) : []);
        var status = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/node/drain");
        Assert.Equal("done", status.GetProperty("state").GetString());
    }
}
