using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Wal;

namespace MoleSignal.Tests.Processes;

/// <summary>
/// Each single request that once broke the product, against the real binary: it is refused or repaired, and the
/// stream, the node and the other orgs go on.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class HardeningProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string> FastFlush = new() { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1" };

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, byte[] body, string? org = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (org is not null) req.Headers.Add("X-Org-Id", org);
        using var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    internal static Task<(HttpStatusCode Status, JsonElement Body)> QueryAsync(HttpClient http, string sql, string? org = null, long? limit = null) =>
        PostAsync(http, "/api/v1/query", JsonSerializer.SerializeToUtf8Bytes(new { sql, limit }), org);

    private static async Task<long> FileRowsAsync(MoleSignalNode node, string stream) =>
        (await NodeQueries.FilesAsync(node.WorkDir, stream)).Sum(f => f.Rows);

    [Fact]
    public async Task A_negative_timestamp_is_rejected_and_the_stream_keeps_flushing()
    {
        using var node = MoleSignalNode.Start(FastFlush);
        await node.WaitHealthyAsync();
        var (status, body) = await PostAsync(node.Http, "/api/v1/ingest/s",
            """[{"_timestamp": -99999999999, "message": "x"}, {"message": "kept"}]"""u8.ToArray());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        Assert.Contains("before 1970-01-01", body.GetProperty("errors")[0].GetProperty("error").GetString());
        await Poll.UntilAsync(() => FileRowsAsync(node, "s"), n => n == 1, Deadline, "the accepted record in a file");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/s", """{"message": "later"}"""u8.ToArray())).Status);
        await Poll.UntilAsync(() => FileRowsAsync(node, "s"), n => n == 2, Deadline, "a later record in a file");
    }

    [Fact]
    public async Task Invalid_utf8_is_repaired_so_the_flushed_stream_stays_queryable()
    {
        using var node = MoleSignalNode.Start(FastFlush);
        await node.WaitHealthyAsync();
        byte[] record = [.. "{\"message\": \"bad "u8, 0xFF, 0xFE, .. "\"}"u8];
        var (status, body) = await PostAsync(node.Http, "/api/v1/ingest/s", record);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("warnings").GetProperty("invalid_utf8_values").GetInt32());
        await Poll.UntilAsync(() => FileRowsAsync(node, "s"), n => n == 1, Deadline, "the record in a file");
        var (qs, q) = await QueryAsync(node.Http, "SELECT message FROM s");
        Assert.Equal(HttpStatusCode.OK, qs);
        Assert.Equal("bad \uFFFD\uFFFD", q.GetProperty("rows")[0][0].GetString());
        Assert.Contains("ingest_invalid_utf8_values_total 1", await node.Http.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task Catalog_tables_and_sql_hidden_in_comments_never_reach_the_engine()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/s", """{"message": "a b"}"""u8.ToArray())).Status);
        foreach (var sql in new[] { "SELECT * FROM pg_settings", "SELECT * FROM information_schema.tables", "SELECT * FROM duckdb_settings()" })
        {
            var (status, body) = await QueryAsync(node.Http, sql);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("forbidden", body.GetProperty("error").GetString());
        }
        // The rewrite of match_all once turned this comment into live SQL that listed the engine's settings.
        var (s, r) = await QueryAsync(node.Http, "SELECT count(*) AS n FROM s WHERE match_all--('a') UNION ALL SELECT count(*) FROM duckdb_settings()\n('b')");
        Assert.Equal(HttpStatusCode.OK, s);
        Assert.Equal(1, Assert.Single(r.GetProperty("rows").EnumerateArray())[0].GetInt64());
        // Another org's stream does not exist for this org.
        var (o, ob) = await QueryAsync(node.Http, "SELECT * FROM s", org: "other");
        Assert.Equal(HttpStatusCode.BadRequest, o);
        Assert.Equal("forbidden", ob.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_huge_result_is_413_and_the_node_keeps_serving()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_QUERIER.MAX_RESULT_MB"] = "4" });
        await node.WaitHealthyAsync();
        var (status, body) = await QueryAsync(node.Http, "SELECT * FROM range(2000000000)", limit: 0);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("result_too_large", body.GetProperty("error").GetString());
        var (ok, small) = await QueryAsync(node.Http, "SELECT count(*) FROM range(1000)");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(1000, small.GetProperty("rows")[0][0].GetInt64());
        var (big, b) = await PostAsync(node.Http, "/api/v1/query",
            JsonSerializer.SerializeToUtf8Bytes(new { sql = "SELECT 1 -- " + new string('x', 300 * 1024) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big);
        Assert.Equal("sql_too_large", b.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_stream_schema_never_grows_past_max_stream_fields()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_INGESTER.MAX_STREAM_FIELDS"] = "2000" });
        await node.WaitHealthyAsync();
        var (status, body) = await PostAsync(node.Http, "/api/v1/ingest/wide", Encoding.UTF8.GetBytes(WideBody.Ndjson()));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        Assert.Equal(198, body.GetProperty("rejected").GetInt32());
        Assert.Contains("max_stream_fields", body.GetProperty("errors")[0].GetProperty("error").GetString());
        var stream = (await NodeQueries.StreamAsync(node.Http, "wide"))!.Value;
        Assert.True(stream.GetProperty("fields").GetArrayLength() <= 2000);
        // Known fields still ingest; a record with one more new field is refused with the reason.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/wide", """{"f0_1": 5, "message": "y"}"""u8.ToArray())).Status);
    }

    [Fact]
    public async Task Readyz_stays_503_while_wal_recovery_fails_and_turns_200_when_it_succeeds()
    {
        using var dir = new TempDir("ms-replay");
        var env = new Dictionary<string, string> { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "3600" };
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/s", """[{"message": "a"}, {"message": "b"}]"""u8.ToArray())).Status);
            node.Process.Kill();
        }
        // The org's object directory cannot be created: every flush of the recovery fails with an I/O error.
        var blocker = NodeQueries.ObjectPath(dir.Path, "default");
        Assert.False(Directory.Exists(blocker));
        File.WriteAllText(blocker, "in the way");
        using var again = MoleSignalNode.Start(env, workDir: dir.Path);
        var body = await Poll.UntilAsync(async () =>
        {
            using var r = await again.Http.GetAsync("/readyz");
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }, r => r.StatusCode == HttpStatusCode.ServiceUnavailable && r.Item2.Contains("wal replay failing"), Deadline, "readyz naming the failing replay");
        Assert.Contains("default|logs|s", body.Item2.Replace('/', '|'));
        File.Delete(blocker);
        await again.WaitHealthyAsync(Deadline);
        Assert.Equal(2, await FileRowsAsync(again, "s"));
    }

    [Fact]
    public async Task A_wal_entry_that_cannot_be_encoded_is_quarantined_and_the_rest_recovers()
    {
        using var dir = new TempDir("ms-quarantine");
        // A WAL left by an older build: one good entry, one whose timestamp no day can name.
        var walDir = StreamWal.DirectoryFor(Path.Combine(dir.Path, "data", "wal"), new StreamKey("default", "logs", "poison"));
        Directory.CreateDirectory(walDir);
        var first = (1L << 32) + 1;
        using (var f = File.Create(Path.Combine(walDir, $"{first:D20}.wal")))
        {
            foreach (var (seq, ts, text) in new[] { (first, 1_700_000_000_000_000L, "good"), (first + 1, -99_999_999_999_000_000L, "poison") })
            {
                var batch = Batch(ts, text);
                var bytes = new byte[WalEntryCodec.EncodedSize(batch)];
                WalEntryCodec.Encode(seq, batch, bytes);
                f.Write(bytes);
            }
        }
        using var node = MoleSignalNode.Start(FastFlush, workDir: dir.Path);
        await node.WaitHealthyAsync(Deadline);
        Assert.Equal(1, await FileRowsAsync(node, "poison"));
        var quarantined = NodeQueries.ObjectPath(dir.Path, $"default/_quarantine/logs/poison/{first + 1:D20}-{first + 1:D20}.wal");
        Assert.True(File.Exists(quarantined), "the poison entry is kept");
        Assert.Contains("could not be encoded", File.ReadAllText(quarantined + ".cause.txt"));
        // Its bytes are the WAL entry, unchanged: the WAL reader reads it back.
        var back = new List<IngestBatch>();
        WalReader.Replay([(0, quarantined)], (_, b) => back.Add(b));
        Assert.Equal(-99_999_999_999_000_000L, Assert.Single(back).MinTimestamp);
        // The stream goes on.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(node.Http, "/api/v1/ingest/poison", """{"message": "next"}"""u8.ToArray())).Status);
        await Poll.UntilAsync(() => FileRowsAsync(node, "poison"), n => n == 2, Deadline, "the next record in a file");
    }

    private static IngestBatch Batch(long ts, string text)
    {
        using var writer = new BatchPayload.Writer();
        writer.Add(1, "message"u8, Encoding.UTF8.GetBytes(text));
        writer.EndRow(ts);
        return new IngestBatch
        {
            Payload = writer.ToPayload(), Count = 1, FieldNames = ["_timestamp", "message"],
            FieldKinds = [FieldKind.Int64, FieldKind.Utf8], MinTimestamp = ts, MaxTimestamp = ts, OriginalBytes = 30,
        };
    }
}
