using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using Elastic.Transport;

using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest.Elasticsearch;

/// <summary>The official Elasticsearch .NET client against the Elasticsearch API of a running node.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ElasticsearchBulkTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public sealed record Doc(
        [property: JsonPropertyName("@timestamp")] DateTimeOffset Timestamp,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("service")] string Service,
        [property: JsonPropertyName("seq")] int Seq,
        [property: JsonPropertyName("http")] Http? Http = null);

    public sealed record Http([property: JsonPropertyName("status")] int Status);

    private static ElasticsearchClient Client(MoleSignalNode node, string basePath = "api/v1/") =>
        new(new ElasticsearchClientSettings(new Uri($"http://127.0.0.1:{node.HttpPort}/{basePath}"))
            .Authentication(new BasicAuthentication(MoleSignalNode.RootEmail, MoleSignalNode.RootPassword))
            .RequestTimeout(TimeSpan.FromSeconds(30)));

    private static Doc NewDoc(int seq, DateTimeOffset? at = null) =>
        new(at ?? DateTimeOffset.UtcNow, $"request {seq} served", seq % 2 == 0 ? "api" : "web", seq, new Http(200));

    private static async Task<JsonElement> RowsAsync(MoleSignalNode node, string sql, string org = "default")
    {
        using var req = new HttpRequestMessage(System.Net.Http.HttpMethod.Post, "/api/v1/query")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { sql }), Encoding.UTF8, "application/json"),
        };
        req.Headers.Add("X-Org-Id", org);
        using var resp = await node.Http.SendAsync(req);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("rows").Clone();
    }

    [Fact]
    public async Task The_client_handshakes_and_its_bulk_helper_writes_every_document_with_its_fields()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var client = Client(node);

        var info = await client.InfoAsync();
        Assert.True(info.IsValidResponse, info.DebugInformation);
        Assert.StartsWith("8.", info.Version.Number);

        var docs = Enumerable.Range(0, 5000).Select(i => NewDoc(i)).ToList();
        var pages = 0;
        client.BulkAll(docs, b => b.Index("eslogs").Size(1000).MaxDegreeOfParallelism(2))
            .Wait(TimeSpan.FromSeconds(60), _ => Interlocked.Increment(ref pages));
        Assert.Equal(5, pages);

        var rows = await RowsAsync(node, "SELECT count(*), count(DISTINCT seq), min(seq), max(seq), " +
                                         "count(*) FILTER (WHERE http_status = 200) FROM eslogs");
        Assert.Equal("[[5000,5000,0,4999,5000]]", rows.GetRawText());
        var one = await RowsAsync(node, "SELECT message, service FROM eslogs WHERE seq = 7");
        Assert.Equal("[[\"request 7 served\",\"web\"]]", one.GetRawText());
        // @timestamp became _timestamp (µs), not a field of its own.
        var ts = await RowsAsync(node, $"SELECT _timestamp FROM eslogs WHERE seq = 3");
        var micros = docs[3].Timestamp.ToUnixTimeMilliseconds() * 1000;
        Assert.InRange(ts[0][0].GetInt64(), micros, micros + 999);
    }

    [Fact]
    public async Task Every_item_gets_its_own_status_and_only_the_refused_ones_are_left_out()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var client = Client(node);
        var request = new BulkRequest("itemized")
        {
            Operations =
            [
                new BulkIndexOperation<Doc>(NewDoc(1)),
                new BulkCreateOperation<Doc>(NewDoc(2)) { Id = "two" },
                new BulkDeleteOperation("x"),
                new BulkUpdateOperation<Doc, Doc>("y") { Doc = NewDoc(3) },
                new BulkIndexOperation<Doc>(NewDoc(4)) { Index = "Not A Valid Name!" },
                new BulkIndexOperation<Doc>(NewDoc(5, DateTimeOffset.UtcNow.AddDays(3))), // outside the window
                new BulkIndexOperation<Doc>(NewDoc(6)) { Index = "itemized_other" },
            ],
        };
        var response = await client.BulkAsync(request);
        Assert.True(response.Errors);
        var items = response.Items.ToList();
        Assert.Equal([201, 201, 400, 400, 400, 400, 201], items.Select(i => i.Status));
        Assert.Equal("two", items[1].Id);
        Assert.Equal("illegal_argument_exception", items[2].Error!.Type);
        Assert.Contains("update", items[3].Error!.Reason);
        Assert.Equal("invalid_index_name_exception", items[4].Error!.Type);
        Assert.Contains("allowed_future_hours", items[5].Error!.Reason ?? "", StringComparison.Ordinal);

        Assert.Equal("[[1,1],[2,1]]",
            (await RowsAsync(node, "SELECT seq, count(*) FROM itemized GROUP BY seq ORDER BY seq")).GetRawText());
        Assert.Equal("[[6]]", (await RowsAsync(node, "SELECT seq FROM itemized_other")).GetRawText());
    }

    [Fact]
    public async Task The_openobserve_alias_writes_into_the_path_org_and_bad_bodies_get_elasticsearch_errors()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_HTTP.MAX_BODY_MB"] = "1" });
        await node.WaitHealthyAsync();
        var aliased = Client(node, "api/esorg/");
        var written = await aliased.BulkAsync(new BulkRequest("shipped")
        {
            Operations = [new BulkIndexOperation<Doc>(NewDoc(1)), new BulkIndexOperation<Doc>(NewDoc(2))],
        });
        Assert.False(written.Errors, written.DebugInformation);
        Assert.Equal("[[2]]", (await RowsAsync(node, "SELECT count(*) FROM shipped", "esorg")).GetRawText());

        // The handshake Beats and Logstash make, with the product header.
        foreach (var path in new[] { "/api/esorg/_license", "/api/v1/_xpack", "/api/v1/_index_template/filebeat",
                     "/api/v1/_ilm/policy/filebeat", "/api/v1/_ingest/pipeline/p", "/api/v1/_data_stream/logs" })
        {
            using var r = await node.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("Elasticsearch", r.Headers.GetValues("X-Elastic-Product").Single());
        }
        using (var put = await node.Http.PutAsync("/api/v1/_index_template/filebeat",
                   new StringContent("{\"index_patterns\":[\"filebeat-*\"]}", Encoding.UTF8, "application/json")))
            Assert.Equal("{\"acknowledged\":true}", await put.Content.ReadAsStringAsync());

        // A malformed action line: the whole body is refused in Elasticsearch's shape, nothing written.
        var (status, body) = await PostBulkAsync(node,
            "{\"index\":{\"_index\":\"shipped\"}}\n{\"seq\":3}\n{\"index\": nope}\n{\"seq\":4}\n");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("illegal_argument_exception", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("line [3]", body.GetProperty("error").GetProperty("reason").GetString());
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        // A document that is not JSON: that item alone is refused.
        (status, body) = await PostBulkAsync(node,
            "{\"index\":{\"_index\":\"shipped\"}}\n{\"seq\": 5, oops}\n" +
            "{\"create\":{\"_index\":\"shipped\"}}\n{\"seq\":6}\n");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("errors").GetBoolean());
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(400, items[0].GetProperty("index").GetProperty("status").GetInt32());
        Assert.Equal("document_parsing_exception",
            items[0].GetProperty("index").GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(201, items[1].GetProperty("create").GetProperty("status").GetInt32());
        // Over the body limit: 413 in Elasticsearch's shape.
        var big = new StringBuilder();
        while (big.Length < 1_200_000) big.Append("{\"index\":{}}\n{\"message\":\"").Append('x', 1000).Append("\"}\n");
        (status, body) = await PostBulkAsync(node, big.ToString(), "/api/v1/shipped/_bulk");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("content_too_long_exception", body.GetProperty("error").GetProperty("type").GetString());

        // Of all three bodies in org default, the one valid document alone.
        Assert.Equal("[[6]]", (await RowsAsync(node, "SELECT seq FROM shipped")).GetRawText());
    }

    private static async Task<(HttpStatusCode, JsonElement)> PostBulkAsync(MoleSignalNode node, string ndjson,
        string path = "/api/v1/_bulk")
    {
        using var content = new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson");
        using var resp = await node.Http.PostAsync(path, content);
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }
}
