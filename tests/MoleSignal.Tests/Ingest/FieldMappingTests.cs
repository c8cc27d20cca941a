using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest;

/// <summary><c>?_msg_field=</c>, <c>?_time_field=</c>, <c>?stream=</c> and their <c>MS-*</c> headers on the
/// JSON, Elasticsearch and Loki paths of a running node.</summary>
[Collection(ProcessCollection.Name)]
public sealed class FieldMappingTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static async Task<HttpStatusCode> PostAsync(MoleSignalNode node, string path, string body,
        string contentType = "application/json", Dictionary<string, string>? headers = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        req.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        foreach (var (k, v) in headers ?? []) req.Headers.Add(k, v);
        using var resp = await node.Http.SendAsync(req);
        return resp.StatusCode;
    }

    private static Task<string> RowsAsync(MoleSignalNode node, string sql, string want) =>
        Poll.UntilAsync(async () =>
        {
            var (status, body) = await HardeningProcessTests.QueryAsync(node.Http, sql);
            return status == HttpStatusCode.OK ? body.GetProperty("rows").GetRawText() : $"{status}";
        }, rows => rows == want, Deadline, sql);

    [Fact]
    public async Task Each_protocol_takes_its_message_time_and_stream_from_the_request()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        const string at = "2026-11-30T10:00:00Z";

        // JSON, by query parameters and by headers.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(node, "/api/v1/ingest/mapped?_msg_field=log&_time_field=t",
            $"{{\"log\":\"from query\",\"t\":\"{at}\"}}"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(node, "/api/v1/ingest/mapped",
            $"{{\"msg\":\"from headers\",\"when\":\"{at}\"}}",
            headers: new() { ["MS-Msg-Field"] = "msg", ["MS-Time-Field"] = "when" }));
        // Elasticsearch: ?stream= replaces every _index.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(node, "/api/v1/_bulk?stream=mapped&_msg_field=log",
            $"{{\"index\":{{\"_index\":\"elsewhere\"}}}}\n{{\"log\":\"from bulk\",\"@timestamp\":\"{at}\"}}\n",
            "application/x-ndjson"));
        // Loki JSON: the stream from MS-Stream instead of the stream_name label.
        var ns = DateTimeOffset.Parse(at).ToUnixTimeMilliseconds() * 1_000_000;
        Assert.Equal(HttpStatusCode.NoContent, await PostAsync(node, "/loki/api/v1/push",
            JsonSerializer.Serialize(new
            {
                streams = new[]
                {
                    new { stream = new { stream_name = "other" }, values = new[] { new[] { $"{ns}", "from loki" } } },
                },
            }), headers: new() { ["MS-Stream"] = "mapped" }));

        await RowsAsync(node, "SELECT message, _timestamp FROM mapped ORDER BY message",
            "[" + string.Join(",", new[] { "from bulk", "from headers", "from loki", "from query" }
                .Select(m => $"[\"{m}\",{DateTimeOffset.Parse(at).ToUnixTimeMilliseconds() * 1000}]")) + "]");
        var schema = (await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/mapped/schema")).GetRawText();
        foreach (var gone in new[] { "\"log\"", "\"msg\"", "\"when\"", "\"t\"" }) Assert.DoesNotContain(gone, schema);

        // A name no key can be is refused before anything is read.
        Assert.Equal(HttpStatusCode.BadRequest, await PostAsync(node,
            $"/api/v1/ingest/mapped?_time_field={new string('x', 300)}", "{\"a\":1}"));
        Assert.Equal(HttpStatusCode.BadRequest, await PostAsync(node, "/loki/api/v1/push?stream=Not%20Valid!",
            "{\"streams\":[]}"));
    }
}
