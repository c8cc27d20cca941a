using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

[Collection(ProcessCollection.Name)]
public sealed class QueryLimitsTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> QueryAsync(HttpClient http, string sql)
    {
        using var resp = await http.PostAsJsonAsync("/api/v1/query", new { sql });
        return (resp.StatusCode, await resp.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task A_slow_query_times_out_with_408_and_a_full_node_answers_429()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_QUERIER.TIMEOUT_SECS"] = "3",
            ["MS_QUERIER.MAX_CONCURRENT"] = "1",
        });
        await node.WaitHealthyAsync();
        var slow = QueryAsync(node.Http, "SELECT sum(hash(range)) FROM range(100000000000)");
        await Poll.UntilAsync(() => node.Http.GetStringAsync("/metrics"), m => m.Contains("\nquery_running 1"), TimeSpan.FromSeconds(30), "the slow query running");
        // While the slow one holds the only slot, another query is turned away at once.
        var (status, body) = await QueryAsync(node.Http, "SELECT 1");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("too_many_queries", body.GetProperty("error").GetString());
        var (slowStatus, slowBody) = await slow;
        Assert.Equal(HttpStatusCode.RequestTimeout, slowStatus);
        Assert.Equal("timeout", slowBody.GetProperty("error").GetString());
        // The slot is free again and the node still answers.
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync(node.Http, "SELECT 1")).Status);
    }

    [Fact]
    public async Task A_query_over_the_memory_limit_fails_cleanly_and_the_node_keeps_serving()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_QUERIER.MEMORY_LIMIT_MB"] = "64" });
        await node.WaitHealthyAsync();
        var (status, body) = await QueryAsync(node.Http, "SELECT length(list(range)) FROM range(100000000)");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("memory_limit", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync(node.Http, "SELECT 42")).Status);
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/healthz"));
    }
}
