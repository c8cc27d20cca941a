using System.Net;
using System.Text;
using System.Text.Json;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Auth;

/// <summary>Each org quota refuses at its limit with nothing of the request written, and usage outlives a
/// restart.</summary>
[Collection(ProcessCollection.Name)]
public sealed class QuotaTests
{
    private static StringContent Body(string s) => new(s, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> QuotasAsync(MoleSignalNode node, string org) =>
        (await AuthApi.SendAsync(node.Http, HttpMethod.Get, $"/api/v1/orgs/{org}/quotas")).GetProperty("quotas");

    private static async Task<long> CountAsync(MoleSignalNode node, string org, string stream)
    {
        var r = await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
            new { sql = $"SELECT count(*) FROM {stream}" }, org: org);
        return r.GetProperty("rows")[0][0].GetInt64();
    }

    private static async Task<(HttpStatusCode Status, string Text)> IngestAsync(MoleSignalNode node, string org,
        string stream, string body)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ingest/{stream}") { Content = Body(body) };
        req.Headers.Add("X-Org-Id", org);
        using var resp = await node.Http.SendAsync(req);
        return (resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Ingest_bytes_per_day_refuses_the_request_that_would_pass_it_and_its_usage_survives_a_restart()
    {
        // The day's usage starts again at UTC midnight: the two nodes' lives must fall in one day.
        await UtcDay.AvoidMidnightAsync(TimeSpan.FromMinutes(2));
        using var dir = new TempDir("ms-quota");
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        var record = "{\"msg\":\"" + new string('x', 80) + "\"}"; // 91 bytes
        long usage;
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            await AuthApi.CreateOrgAsync(node.Http, "q1");
            await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/orgs/q1/quotas",
                new { ingest_bytes_per_day = 200 });
            Assert.Equal(HttpStatusCode.OK, (await IngestAsync(node, "q1", "app", record)).Status);
            Assert.Equal(HttpStatusCode.OK, (await IngestAsync(node, "q1", "app", record)).Status);
            var (status, text) = await IngestAsync(node, "q1", "app", record);
            Assert.Equal(HttpStatusCode.TooManyRequests, status);
            Assert.Contains("\"error\":\"quota_exceeded\"", text);
            Assert.Contains("ingest_bytes_per_day", text);
            Assert.Equal(2, await CountAsync(node, "q1", "app"));
            usage = (await QuotasAsync(node, "q1")).GetProperty("ingest_bytes_per_day").GetProperty("usage").GetInt64();
            Assert.Equal(2 * record.Length, usage);
            node.Process.Stop();
        }
        using var again = MoleSignalNode.Start(env, workDir: dir.Path);
        await again.WaitHealthyAsync();
        Assert.Equal(usage, (await QuotasAsync(again,
            "q1")).GetProperty("ingest_bytes_per_day").GetProperty("usage").GetInt64());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await IngestAsync(again, "q1", "app", record)).Status);
        Assert.Equal(2, await CountAsync(again, "q1", "app"));
    }

    [Fact]
    public async Task Max_streams_and_stored_bytes_refuse_new_data_and_the_default_comes_from_the_quotas_section()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_QUOTAS.MAX_STREAMS"] = "2";
        env["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        await AuthApi.CreateOrgAsync(node.Http, "q2");
        var quotas = await QuotasAsync(node, "q2");
        Assert.Equal(2, quotas.GetProperty("max_streams").GetProperty("limit").GetInt64());
        Assert.Equal("default", quotas.GetProperty("max_streams").GetProperty("source").GetString());

        Assert.Equal(HttpStatusCode.OK, (await IngestAsync(node, "q2", "a", "{\"m\":1}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await IngestAsync(node, "q2", "b", "{\"m\":1}")).Status);
        var (status, text) = await IngestAsync(node, "q2", "c", "{\"m\":1}");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("max_streams", text);
        Assert.Equal(HttpStatusCode.OK,
            (await IngestAsync(node, "q2", "a", "{\"m\":2}")).Status); // existing streams go on
        var streams = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams", org: "q2");
        Assert.Equal(["a", "b"],
            streams.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("name").GetString()).Order());

        // stored_bytes: once the org's files hold 1 byte or more, new data is refused
        await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/orgs/q2/quotas",
            new { stored_bytes = 1, max_streams = (long?)null });
        await Poll.UntilAsync(() => QuotasAsync(node, "q2"),
            q => q.GetProperty("stored_bytes").GetProperty("usage").GetInt64() > 0,
            TimeSpan.FromSeconds(60), "q2's records flushed into files");
        (status, text) = await IngestAsync(node, "q2", "a", "{\"m\":3}");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("stored_bytes", text);
        Assert.Equal(3, await CountAsync(node, "q2", "a") + await CountAsync(node, "q2", "b"));
    }

    [Fact]
    public async Task Max_concurrent_queries_refuses_a_query_while_the_slot_is_held_and_frees_it_when_the_answer_ends()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        await AuthApi.CreateOrgAsync(node.Http, "q3");
        await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/orgs/q3/quotas",
            new { max_concurrent_queries = 1 });

        // A streamed answer far larger than the socket buffers, left unread: its query holds the org's one slot.
        using var held = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query/stream")
        {
            Content = Body(JsonSerializer.Serialize(new { sql = "SELECT range AS n, repeat('x', 200) AS pad FROM range(50000000)" })),
        };
        held.Headers.Add("X-Org-Id", "q3");
        var open = await node.Http.SendAsync(held, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        using var second = new HttpRequestMessage(HttpMethod.Post,
            "/api/v1/query") { Content = Body("{\"sql\":\"SELECT 1\"}") };
        second.Headers.Add("X-Org-Id", "q3");
        using (var refused = await node.Http.SendAsync(second))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Contains("max_concurrent_queries", await refused.Content.ReadAsStringAsync());
        }
        // another org is not affected
        Assert.Equal(1, (await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql = "SELECT 1" }))
            .GetProperty("rows")[0][0].GetInt32());
        open.Dispose();
        await Poll.UntilAsync(async () =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Post,
                "/api/v1/query") { Content = Body("{\"sql\":\"SELECT 1\"}") };
            req.Headers.Add("X-Org-Id", "q3");
            using var r = await node.Http.SendAsync(req);
            return r.StatusCode;
        }, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "q3's slot freed");
    }
}
