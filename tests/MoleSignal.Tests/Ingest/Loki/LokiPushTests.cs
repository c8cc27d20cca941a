using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using MoleSignal.Logproto;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest.Loki;

/// <summary>Loki push from winston-loki (protobuf + snappy, and JSON) against a running node, and bad bodies.</summary>
[Collection(ProcessCollection.Name)]
public sealed class LokiPushTests
{
    private static async Task PushAsync(string host, string mode, int count, object labels)
    {
        var client = NpmPackages.TestsDir("loki-client");
        await NpmPackages.EnsureInstalledAsync(client);
        using var push = new ChildProcess("node", [Path.Combine(client, "push.js"), host,
            $"{MoleSignalNode.RootEmail}:{MoleSignalNode.RootPassword}", mode, count.ToString(),
            JsonSerializer.Serialize(labels)], client);
        Assert.True(await push.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, push.Output);
    }

    [Theory]
    [InlineData("proto")]
    [InlineData("json")]
    public async Task Entries_pushed_by_winston_loki_are_rows_with_their_labels(string mode)
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        // JSON through the OpenObserve path (the org in the path), protobuf through Loki's own.
        var org = mode == "json" ? "lokiorg" : "default";
        var host = $"http://127.0.0.1:{node.HttpPort}" + (mode == "json" ? "/api/lokiorg" : "");
        await PushAsync(host, mode, 50, new { app = "shop", stream_name = "lokilogs" });

        Assert.Equal("[[50,25,\"shop\",\"info\",0,50]]", await NodeQueries.SqlAsync(node.Http,
            "SELECT count(*), count(*) FILTER (WHERE parity = 'odd'), min(app), min(level), " +
            "count(*) FILTER (WHERE message NOT LIKE 'order % shipped%'), count(DISTINCT message) FROM lokilogs",
            org));
        // The routing label is not a field.
        var schema = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/lokilogs/schema",
            org: org);
        Assert.DoesNotContain("stream_name", schema.GetRawText());
    }

    private static byte[] Push(params (string Labels, string Line)[] entries)
    {
        var request = new PushRequest();
        foreach (var (labels, line) in entries)
            request.Streams.Add(new StreamAdapter
            {
                Labels = labels,
                Entries =
                {
                    new EntryAdapter
                    {
                        Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
                        Line = line,
                        StructuredMetadata = { new LabelPairAdapter { Name = "trace_id", Value = "abc" } },
                    },
                },
            });
        return request.ToByteArray();
    }

    [Fact]
    public async Task Bad_pushes_get_a_json_4xx_and_write_nothing()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        env["MS_HTTP.MAX_BODY_MB"] = "1";
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();

        async Task<(HttpStatusCode Status, string Error)> Post(byte[] body, string type = "application/x-protobuf",
            string path = "/loki/api/v1/push?stream=badloki")
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            using var resp = await node.Http.PostAsync(path, content);
            var text = await resp.Content.ReadAsStringAsync();
            return (resp.StatusCode, resp.StatusCode == HttpStatusCode.NoContent
                ? ""
                : JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!);
        }

        var good = Push(("{app=\"a\"}", "kept"));
        Assert.Equal((HttpStatusCode.BadRequest, "bad_encoding"), await Post([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
        var truncated = Snappier.Snappy.CompressToArray(good[..^4]);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_protobuf"), await Post(truncated));
        // Uncompressed protobuf is not a snappy block.
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(good)).Status);
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"),
            await Post(Encoding.UTF8.GetBytes("{}"), "text/plain"));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_protobuf"),
            await Post(Snappier.Snappy.CompressToArray(Push(("{app=~\"a\"}", "regex labels")))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_json"), await Post(
            Encoding.UTF8.GetBytes("{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[1,\"x\"]]}]}"),
            "application/json"));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_stream"), await Post(
            Snappier.Snappy.CompressToArray(Push(("{stream_name=\"Not a stream!\"}", "x"))), path:
            "/loki/api/v1/push"));
        // A snappy block whose header claims 2 MiB, past the 1 MiB body limit, is refused before it is inflated.
        var big = Snappier.Snappy.CompressToArray(new byte[2 << 20]);
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "payload_too_large"), await Post(big));

        Assert.Equal((HttpStatusCode.NoContent, ""), await Post(Snappier.Snappy.CompressToArray(good)));
        Assert.Equal("[[1,\"kept\",\"a\",\"abc\"]]", await NodeQueries.SqlAsync(node.Http,
            "SELECT count(*), min(message), min(app), min(trace_id) FROM badloki"));
    }
}
