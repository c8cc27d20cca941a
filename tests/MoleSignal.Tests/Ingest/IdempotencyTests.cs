using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using MoleSignal.Otlp.Common;
using MoleSignal.Otlp.Logs;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ingest;

/// <summary>
/// <c>Idempotency-Key</c> on a running node: a retry answers the first answer and writes nothing, from the WAL
/// entry before a flush and from the metadata after it, across <c>kill -9</c>; concurrent retries write once.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class IdempotencyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    // Four records, one of them refused (not an object): the answer names it, so replaying it is visible.
    private const string Body = """
        [{"_timestamp":"2026-11-30T10:00:00Z","message":"a"},{"_timestamp":"2026-11-30T10:00:01Z","message":"b"},
         7,{"_timestamp":"2026-11-30T10:00:02Z","message":"c"}]
        """;

    private sealed record Answer(HttpStatusCode Status, string Body, bool Replayed);

    private static async Task<Answer> PostAsync(HttpClient http, string path, string body, string? key,
        string contentType = "application/json")
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
        req.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (key is not null) req.Headers.Add("Idempotency-Key", key);
        using var resp = await http.SendAsync(req);
        return new Answer(resp.StatusCode, await resp.Content.ReadAsStringAsync(),
            resp.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true");
    }

    /// <summary>Posts until the answer is not a 503 (a restart's replay, or the key's first request still being
    /// written).</summary>
    private static Task<Answer> PostSettledAsync(HttpClient http, string path, string body, string key) =>
        Poll.UntilAsync(() => PostAsync(http, path, body, key), a => a.Status != HttpStatusCode.ServiceUnavailable,
            Deadline, $"an answer other than 503 for key {key}");

    private static async Task<long> CountAsync(HttpClient http, string stream)
    {
        var rows = await NodeQueries.SqlAsync(http, $"SELECT count(*) AS n FROM \"{stream}\"");
        return JsonDocument.Parse(rows).RootElement[0][0].GetInt64();
    }

    private static Task WaitFlushedAsync(string workDir, string stream, long rows) =>
        Poll.UntilAsync(async () => (await NodeQueries.FilesAsync(workDir, stream)).Sum(f => f.Rows),
            n => n == rows, Deadline, $"{rows} rows of {stream} in data files");

    private static async Task KillAsync(MoleSignalNode node)
    {
        node.Process.Kill();
        await Poll.UntilAsync(() => node.Process.HasExited, Deadline, "the kill");
    }

    [Fact]
    public async Task A_retry_answers_the_first_answer_and_writes_nothing_before_and_after_flush_across_kill_9()
    {
        using var dir = new TempDir();
        const string path = "/api/v1/ingest/orders";
        Answer first;
        // Flushing every second: the key's entry reaches the files, and the key the metadata, before the kill.
        using (var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1" },
                   workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            first = await PostAsync(node.Http, path, Body, "flushed-1");
            Assert.Equal(HttpStatusCode.OK, first.Status);
            Assert.False(first.Replayed);
            Assert.Equal(3, JsonDocument.Parse(first.Body).RootElement.GetProperty("accepted").GetInt32());
            var again = await PostAsync(node.Http, path, Body, "flushed-1");
            Assert.Equal(first with { Replayed = true }, again);
            Assert.Equal(3, await CountAsync(node.Http, "orders"));
            await WaitFlushedAsync(dir.Path, "orders", 3);
            await KillAsync(node);
        }
        // Never flushing on its own: the next key lives only in its WAL entry when the node is killed.
        var walOnly = new Dictionary<string, string>
        {
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "3600", ["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "512",
        };
        Answer second;
        using (var node = MoleSignalNode.Start(walOnly, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            Assert.Equal(first with { Replayed = true }, await PostSettledAsync(node.Http, path, Body, "flushed-1"));
            second = await PostAsync(node.Http, path, Body, "in-wal-2");
            Assert.Equal(HttpStatusCode.OK, second.Status);
            Assert.False(second.Replayed);
            Assert.Equal(second with { Replayed = true }, await PostAsync(node.Http, path, Body, "in-wal-2"));
            Assert.Equal(6, await CountAsync(node.Http, "orders"));
            // Only the first request's rows are in files: the second one's key is only in the WAL.
            Assert.Equal(3, (await NodeQueries.FilesAsync(dir.Path, "orders")).Sum(f => f.Rows));
            await KillAsync(node);
        }
        using (var node = MoleSignalNode.Start(walOnly, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            Assert.Equal(second with { Replayed = true }, await PostSettledAsync(node.Http, path, Body, "in-wal-2"));
            Assert.Equal(first with { Replayed = true }, await PostSettledAsync(node.Http, path, Body, "flushed-1"));
            var fresh = await PostAsync(node.Http, path, Body, "fresh-3");
            Assert.False(fresh.Replayed);
            Assert.Equal(9, await CountAsync(node.Http, "orders"));
        }
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_write_once_and_bad_keys_are_refused()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        const string path = "/api/v1/ingest/burst";
        var answers = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(_ => PostAsync(node.Http, path, Body, "same-key")));
        // One wrote; each other one was answered from it or told to retry while it was being written.
        Assert.Single(answers, a => a is { Status: HttpStatusCode.OK, Replayed: false });
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
            $"{a.Status}: {a.Body}"));
        var written = answers.Single(a => !a.Replayed && a.Status == HttpStatusCode.OK);
        Assert.Equal(written with { Replayed = true }, await PostSettledAsync(node.Http, path, Body, "same-key"));
        Assert.Equal(3, await CountAsync(node.Http, "burst"));

        // A key that cannot be kept: 400 with the JSON error, nothing written.
        foreach (var bad in new[] { new string('k', 256), "spaces are not visible" })
        {
            var refused = await PostAsync(node.Http, path, Body, bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Equal("invalid_idempotency_key",
                JsonDocument.Parse(refused.Body).RootElement.GetProperty("error").GetString());
        }
        // Without a key every request writes, as before.
        Assert.False((await PostAsync(node.Http, path, Body, null)).Replayed);
        Assert.Equal(6, await CountAsync(node.Http, "burst"));
    }

    [Fact]
    public async Task A_bulk_retry_over_two_indexes_answers_every_item_again_and_writes_nothing()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var body = new StringBuilder();
        for (var i = 0; i < 4; i++)
            body.Append($"{{\"index\":{{\"_index\":\"shop_{i % 2}\",\"_id\":\"d{i}\"}}}}\n")
                .Append($"{{\"@timestamp\":\"2026-11-30T10:00:0{i}Z\",\"message\":\"doc {i}\"}}\n");
        body.Append("{\"delete\":{\"_index\":\"shop_0\",\"_id\":\"d0\"}}\n");
        var first = await PostAsync(node.Http, "/api/v1/_bulk", body.ToString(), "bulk-1", "application/x-ndjson");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var again = await PostAsync(node.Http, "/api/v1/_bulk", body.ToString(), "bulk-1", "application/x-ndjson");
        Assert.True(again.Replayed);
        // The same items with the same statuses (took differs: it is this answer's time).
        static string Items(string answer) => JsonDocument.Parse(answer).RootElement.GetProperty("items").GetRawText();
        Assert.Equal(Items(first.Body), Items(again.Body));
        Assert.Equal(2, await CountAsync(node.Http, "shop_0"));
        Assert.Equal(2, await CountAsync(node.Http, "shop_1"));
    }

    [Fact]
    public async Task An_otlp_grpc_export_retried_with_its_idempotency_key_metadata_writes_once()
    {
        var env = MoleSignalNode.DefaultEnv(freePorts: true);
        using var node = MoleSignalNode.Start(env);
        await node.WaitHealthyAsync();
        var export = new ExportLogsServiceRequest();
        var scope = new ScopeLogs();
        for (var i = 0; i < 3; i++)
            scope.LogRecords.Add(new LogRecord
            {
                TimeUnixNano = 1_764_496_800_000_000_000UL + (ulong)i, Body = new AnyValue { StringValue = $"log {i}" },
            });
        export.ResourceLogs.Add(new ResourceLogs { ScopeLogs = { scope } });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{env["MS_GRPC.PORT"]}");
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "opentelemetry.proto.collector.logs.v1.LogsService",
            "Export", bytes, bytes);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{MoleSignalNode.RootEmail}:{MoleSignalNode.RootPassword}"));
        async Task<byte[]> Export(string key) => await channel.CreateCallInvoker().AsyncUnaryCall(method, null,
            new CallOptions(new Grpc.Core.Metadata
            {
                { "authorization", $"Basic {basic}" }, { "stream-name", "grpckeys" }, { "idempotency-key", key },
            }), export.ToByteArray());

        var first = await Export("export-1");
        Assert.Equal(first, await Export("export-1"));
        Assert.Equal(3, await CountAsync(node.Http, "grpckeys"));
        await Export("export-2");
        Assert.Equal(6, await CountAsync(node.Http, "grpckeys"));
        var bad = await Assert.ThrowsAsync<RpcException>(() => Export("not visible"));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
    }
}
