using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace MoleSignal.Tests.Processes;

[Collection(ProcessCollection.Name)]
public sealed class WalAndBackpressureTests
{
    private static StringContent Ndjson(int batch, int records, int pad = 100)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < records; i++)
            sb.Append($"{{\"_timestamp\":{1767225600000000L + batch * 10_000 + i},\"b\":{batch},\"message\":\"{new string('m', pad)}\"}}\n");
        var content = new StringContent(sb.ToString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        return content;
    }

    [Fact]
    public async Task A_torn_wal_tail_is_cut_on_restart_and_every_acknowledged_record_is_kept()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "3600" };
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            for (var b = 0; b < 10; b++)
                Assert.Equal(HttpStatusCode.OK, (await node.Http.PostAsync("/api/v1/ingest/torn", Ndjson(b, 100))).StatusCode);
            node.Process.Kill();
        }
        var segment = Directory.GetFiles(Path.Combine(dir.Path, "data", "wal", "default", "logs", "torn"), "*.wal").Single();
        await using (var fs = new FileStream(segment, FileMode.Append))
            fs.Write(Encoding.UTF8.GetBytes("\u0010\u0000\u0000\u0000half an entry that never finished"));

        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            Assert.Equal(1000, await NodeQueries.RecordsAsync(node.Http, "torn"));
            Assert.Contains(node.Process.Output.Split('\n'), l => l.Contains("stream default|logs|torn: replayed 10 WAL entries") && !l.Contains("torn tail cut: 0 bytes"));
            var files = await NodeQueries.FilesAsync(dir.Path, "torn");
            Assert.Equal(1000, files.Sum(f => f.Rows)); // the replay's forced flush
            // Appends go on after the cut.
            Assert.Equal(HttpStatusCode.OK, (await node.Http.PostAsync("/api/v1/ingest/torn", Ndjson(10, 100))).StatusCode);
            Assert.Equal(1100, await NodeQueries.RecordsAsync(node.Http, "torn"));
        }
    }

    [Fact]
    public async Task With_the_object_store_unreachable_ingest_fills_the_wal_to_the_bound_then_answers_503_and_recovers()
    {
        using var dir = new TempDir();
        var root = dir.Combine("objects");
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_STORE.OBJECT.ROOT"] = root,
            ["MS_INGESTER.BUFFER_MAX_MB"] = "1",
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
        }, workDir: dir.Path);
        await node.WaitHealthyAsync();
        Directory.Delete(root, recursive: true);
        File.WriteAllText(root, "the store is unreachable");

        var acked = 0;
        HttpResponseMessage? refused = null;
        for (var b = 0; b < 200 && refused is null; b++)
        {
            var resp = await node.Http.PostAsync("/api/v1/ingest/bp", Ndjson(b, 100, pad: 500));
            if (resp.StatusCode == HttpStatusCode.OK) acked += 100;
            else refused = resp;
        }
        Assert.NotNull(refused);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused!.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta?.TotalSeconds >= 1);
        Assert.Contains("\"error\":\"backpressure\"", await refused.Content.ReadAsStringAsync());
        Assert.InRange(acked, 100, 2000); // about 1 MiB of buffered records
        Assert.Equal(acked, await NodeQueries.RecordsAsync(node.Http, "bp"));
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/readyz"));

        File.Delete(root);
        await Poll.UntilAsync(() => NodeQueries.FilesAsync(dir.Path, "bp"), f => f.Sum(x => x.Rows) == acked, TimeSpan.FromSeconds(120), "flush after the store came back");
        Assert.Equal(HttpStatusCode.OK, (await node.Http.PostAsync("/api/v1/ingest/bp", Ndjson(999, 100))).StatusCode);
        Assert.Equal(acked + 100, await NodeQueries.RecordsAsync(node.Http, "bp"));
    }
}
