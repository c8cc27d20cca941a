using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Processes;

[Collection(ProcessCollection.Name)]
public sealed class IngestProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static HttpContent Body(byte[] bytes, string? encoding = null, string type = "application/x-ndjson")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        if (encoding is not null) content.Headers.ContentEncoding.Add(encoding);
        return content;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(
        HttpClient http, string path, HttpContent content, string? org = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (org is not null) req.Headers.TryAddWithoutValidation("X-Org-Id", org);
        var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default, resp);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public async Task Genlogs_records_land_in_parquet_files_and_sidecars_whose_filemeta_rows_sum_to_the_accepted_count()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1" });
        await node.WaitHealthyAsync();
        var lines = Encoding.UTF8.GetString(GenLogs.Generate(30_000)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var part1 = Encoding.UTF8.GetBytes(string.Join("\n", lines[..10_000]));
        var part2 = Encoding.UTF8.GetBytes("[" + string.Join(",", lines[10_000..20_000]) + "]");
        var part3 = Encoding.UTF8.GetBytes(string.Join("\n", lines[20_000..]));
        var r1 = await PostAsync(node.Http, "/api/v1/ingest/bench", Body(part1));
        var r2 = await PostAsync(node.Http, "/api/v1/ingest/bench", Body(Gzip(part2), "gzip", "application/json"));
        var r3 = await PostAsync(node.Http, "/api/v1/ingest/bench", Body(new ZstdSharp.Compressor().Wrap(part3).ToArray(), "zstd"));
        foreach (var r in new[] { r1, r2, r3 })
        {
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.Equal(10_000, r.Body.GetProperty("accepted").GetInt32());
            Assert.Equal(0, r.Body.GetProperty("rejected").GetInt32());
        }

        // Visible at once (buffered), then in files once flushed.
        Assert.Equal(30_000, await NodeQueries.RecordsAsync(node.Http, "bench"));
        var files = await Poll.UntilAsync(() => NodeQueries.FilesAsync(node.WorkDir, "bench"), f => f.Sum(x => x.Rows) == 30_000, Deadline, "all rows flushed");
        foreach (var f in files)
        {
            Assert.True(File.Exists(NodeQueries.ObjectPath(node.WorkDir, f.ObjectKey)), f.ObjectKey);
            Assert.True(File.Exists(NodeQueries.ObjectPath(node.WorkDir, f.IndexKey)), f.IndexKey);
            Assert.Equal(f.CompressedBytes, new FileInfo(NodeQueries.ObjectPath(node.WorkDir, f.ObjectKey)).Length);
            Assert.StartsWith("default/logs/bench/2026-01-01/", f.ObjectKey);
            Assert.True(f.MinTs <= f.MaxTs);
        }
        var stream = (await NodeQueries.StreamAsync(node.Http, "bench"))!.Value;
        Assert.Equal(30_000, stream.GetProperty("records").GetInt64());
        Assert.Equal(files.Count, stream.GetProperty("files").GetInt64());
        Assert.InRange(files.Min(f => f.MinTs), 1767225600000000, 1767225600001000); // genlogs starts at 2026-01-01
        var fields = stream.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("type").GetString());
        Assert.Equal("int64", fields["_timestamp"]);
        Assert.Equal("utf8", fields["kubernetes_pod_name"]);
        Assert.Equal("float64", fields["http_duration_ms"]);
        Assert.Equal("int64", fields["http_status"]);
        Assert.Equal("utf8", fields["error_stack"]);
        // The WAL behind flushed data is gone.
        await Poll.UntilAsync(() => !Directory.EnumerateFiles(Path.Combine(node.WorkDir, "data", "wal"), "*.wal", SearchOption.AllDirectories).Any(),
            Deadline, "WAL truncated after flush");
    }

    [Fact]
    public async Task Bad_input_gets_its_status_and_leaves_the_server_up_and_earlier_data_intact()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_HTTP.MAX_BODY_MB"] = "1",
            ["MS_INGESTER.MAX_COLUMNS"] = "50",
        });
        await node.WaitHealthyAsync();
        var ok = await PostAsync(node.Http, "/api/v1/ingest/app", Body("{\"m\":1}\n{\"m\":2}\n"u8.ToArray()));
        Assert.Equal(HttpStatusCode.OK, ok.Status);

        async Task Expect(HttpStatusCode status, string error, string path, HttpContent content, string? org = null)
        {
            var (code, body, resp) = await PostAsync(node.Http, path, content, org);
            Assert.True(status == code, $"{path}: expected {status}, got {code}: {body}");
            Assert.Equal(error, body.GetProperty("error").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
            resp.Dispose();
        }

        await Expect(HttpStatusCode.BadRequest, "invalid_json", "/api/v1/ingest/app", Body("this is not json"u8.ToArray()));
        await Expect(HttpStatusCode.BadRequest, "invalid_json", "/api/v1/ingest/app", Body("[{\"a\":1},{\"a\""u8.ToArray(), type: "application/json"));
        await Expect(HttpStatusCode.BadRequest, "invalid_json", "/api/v1/ingest/app", Body([]));
        await Expect(HttpStatusCode.BadRequest, "all_rejected", "/api/v1/ingest/app", Body("[1,2,3]"u8.ToArray(), type: "application/json"));
        await Expect(HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "/api/v1/ingest/app", Body(new byte[2 << 20]));
        await Expect(HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "/api/v1/ingest/app",
            Body(Gzip(Encoding.UTF8.GetBytes("{\"m\":\"" + new string('a', 3 << 20) + "\"}")), "gzip"));
        await Expect(HttpStatusCode.BadRequest, "bad_encoding", "/api/v1/ingest/app", Body("not gzip at all"u8.ToArray(), "gzip"));
        await Expect(HttpStatusCode.UnsupportedMediaType, "unsupported_encoding", "/api/v1/ingest/app", Body("{}"u8.ToArray(), "br"));
        // The client folds "/ingest/.." into "/api/v1/": no route, nothing written.
        await Expect(HttpStatusCode.NotFound, "not_found", "/api/v1/ingest/..", Body("{\"m\":1}"u8.ToArray()));
        await Expect(HttpStatusCode.BadRequest, "invalid_stream", "/api/v1/ingest/a%2F..%2Fb", Body("{\"m\":1}"u8.ToArray()));
        // Kestrel itself refuses a NUL in the path (400, before any route runs).
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(node.Http, "/api/v1/ingest/a%00b", Body("{\"m\":1}"u8.ToArray()))).Status);
        await Expect(HttpStatusCode.BadRequest, "invalid_stream", "/api/v1/ingest/_x", Body("{\"m\":1}"u8.ToArray()));
        await Expect(HttpStatusCode.BadRequest, "invalid_stream", "/api/v1/ingest/" + new string('a', 129), Body("{\"m\":1}"u8.ToArray()));
        await Expect(HttpStatusCode.BadRequest, "invalid_org", "/api/v1/ingest/app", Body("{\"m\":1}"u8.ToArray()), "../etc");
        // Every org-scoped endpoint refuses a bad org the same way.
        foreach (var (method, path) in new[] { ("GET", "/api/v1/streams"), ("GET", "/api/v1/streams/app/schema"), ("POST", "/api/v1/query"),
                     ("POST", "/api/v1/query/stream"), ("GET", "/api/v1/query/jobs"), ("GET", "/api/v1/query/jobs/x"),
                     ("GET", "/api/v1/query/jobs/x/result"), ("DELETE", "/api/v1/query/jobs/x") })
        {
            using var req = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST") req.Content = new StringContent("{\"sql\":\"SELECT 1\"}", Encoding.UTF8, "application/json");
            req.Headers.Add("X-Org-Id", "../etc");
            using var resp = await node.Http.SendAsync(req);
            Assert.Equal(HttpStatusCode.BadRequest, resp.StatusCode);
            Assert.Contains("\"invalid_org\"", await resp.Content.ReadAsStringAsync());
        }
        await Expect(HttpStatusCode.BadRequest, "invalid_type", "/api/v1/ingest/app?type=events", Body("{\"m\":1}"u8.ToArray()));
        await Expect(HttpStatusCode.NotFound, "not_found", "/api/v1/ingest/", Body("{\"m\":1}"u8.ToArray()));

        // Per-record problems reject only those records, with their index and reason.
        var wide = "{" + string.Join(",", Enumerable.Range(0, 60).Select(i => $"\"f{i}\":{i}")) + "}";
        var deep = "{\"d\":" + new string('[', 50) + new string(']', 50) + "}";
        var mixed = await PostAsync(node.Http, "/api/v1/ingest/app", Body(Encoding.UTF8.GetBytes($"{{\"m\":3}}\n{wide}\nnope\n{deep}\n{{\"m\":4}}\n")));
        Assert.Equal(HttpStatusCode.OK, mixed.Status);
        Assert.Equal(2, mixed.Body.GetProperty("accepted").GetInt32());
        Assert.Equal(3, mixed.Body.GetProperty("rejected").GetInt32());
        Assert.Equal([1, 2, 3], mixed.Body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("index").GetInt32()));

        // Still serving; the earlier data is all there and nothing from the bad requests leaked into a stream.
        Assert.Equal(HttpStatusCode.OK, await node.StatusAsync("/healthz"));
        Assert.Equal(4, await NodeQueries.RecordsAsync(node.Http, "app"));
        using var streams = await node.Http.GetAsync("/api/v1/streams");
        var names = (await streams.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("name").GetString());
        Assert.Equal(["app"], names);
        Assert.False(Directory.Exists(Path.Combine(node.WorkDir, "data", "wal", "etc")));
    }

    [Fact]
    public async Task Orgs_and_types_are_separate_streams_and_the_schema_endpoint_shows_widening()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/Evo", Body("{\"v\":1,\"w\":1}"u8.ToArray()), "Acme")).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/evo", Body("{\"v\":1.5,\"w\":\"x\"}"u8.ToArray()), "acme")).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/evo?type=metrics", Body("{\"v\":true}"u8.ToArray()), "acme")).Status);

        using var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/streams/evo/schema");
        req.Headers.Add("X-Org-Id", "acme");
        using var resp = await node.Http.SendAsync(req);
        var schema = await resp.Content.ReadFromJsonAsync<JsonElement>();
        var fields = schema.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("type").GetString());
        Assert.Equal("float64", fields["v"]);
        Assert.Equal("utf8", fields["w"]);
        Assert.Equal(2, await NodeQueries.RecordsAsync(node.Http, "evo", "acme"));
        Assert.Equal(0, await NodeQueries.RecordsAsync(node.Http, "evo"));
        Assert.Equal(HttpStatusCode.NotFound, await node.StatusAsync("/api/v1/streams/evo/schema"));
    }

    [Fact]
    public async Task The_schema_history_lists_each_widening_flush_newest_first()
    {
        using var node = MoleSignalNode.Start(
            new Dictionary<string, string> { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1" });
        await node.WaitHealthyAsync();
        async Task<JsonElement[]> Versions() =>
            (await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/hist/schema/history"))
            .GetProperty("versions").EnumerateArray().ToArray();
        string[] Names(JsonElement v) =>
            v.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToArray();

        Assert.Equal(HttpStatusCode.OK,
            (await PostAsync(node.Http, "/api/v1/ingest/hist", Body("{\"a\":1}"u8.ToArray()))).Status);
        await Poll.UntilAsync(Versions, v => v.Length == 1, TimeSpan.FromSeconds(30), "the first version flushed");
        Assert.Equal(HttpStatusCode.OK,
            (await PostAsync(node.Http, "/api/v1/ingest/hist", Body("{\"a\":2,\"b\":\"x\"}"u8.ToArray()))).Status);
        var versions = await Poll.UntilAsync(Versions, v => v.Length == 2, TimeSpan.FromSeconds(30),
            "the widening flushed");

        Assert.Equal([2, 1], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Contains("b", Names(versions[0]));
        Assert.DoesNotContain("b", Names(versions[1]));
        Assert.Contains("a", Names(versions[1]));
        Assert.True(versions[0].GetProperty("created_at").GetInt64()
                    >= versions[1].GetProperty("created_at").GetInt64());
        Assert.Single((await AuthApi.SendAsync(node.Http, HttpMethod.Get,
            "/api/v1/streams/hist/schema/history?limit=1")).GetProperty("versions").EnumerateArray());
        await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/hist/schema/history?limit=0",
            expect: HttpStatusCode.BadRequest);
        await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/hist/schema/history", org: "other",
            expect: HttpStatusCode.NotFound);
    }
}
