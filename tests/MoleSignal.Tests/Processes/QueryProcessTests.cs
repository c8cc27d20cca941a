using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

/// <summary>One node with genlogs data, flushed and buffered, shared by the query tests.</summary>
public sealed class QueryNodeFixture : IAsyncLifetime
{
    public const int Records = 110_000; // past record 100,000 a field appears: schema evolution
    public MoleSignalNode Node { get; private set; } = null!;
    public TempDir Dir { get; } = new("ms-query");
    public string FlatNdjson => Dir.Combine("flat.ndjson");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Dir.Combine("node"));
        Node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "3600",
            ["MS_INGESTER.FLUSH_THRESHOLD_MB"] = "16", // several files, and the tail stays buffered
            ["MS_QUERIER.MAX_CONCURRENT"] = "4",
        }, workDir: Dir.Combine("node"));
        await Node.WaitHealthyAsync();
        var data = GenLogs.Generate(Records);
        var lines = Encoding.UTF8.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await NodeQueries.IngestAsync(Node.Http, "bench", lines, 10_000);
        // The oracle's copy, flattened the way the peers are fed.
        var psi = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(Path.GetDirectoryName(GenLogs.Script())!, "peers", "flatten.py"));
        using var p = System.Diagnostics.Process.Start(psi)!;
        var copy = Task.Run(async () => { await using var f = File.Create(FlatNdjson); await p.StandardOutput.BaseStream.CopyToAsync(f); });
        await p.StandardInput.BaseStream.WriteAsync(data);
        p.StandardInput.Close();
        await copy;
        await p.WaitForExitAsync();
    }

    public Task DisposeAsync()
    {
        Node.Dispose();
        Dir.Dispose();
        return Task.CompletedTask;
    }
}

[Collection(ProcessCollection.Name)]
public sealed class QueryProcessTests(QueryNodeFixture fx) : IClassFixture<QueryNodeFixture>
{
    private HttpClient Http => fx.Node.Http;

    private async Task<(HttpStatusCode Status, JsonElement Body)> QueryAsync(object body, string? org = null, string path = "/api/v1/query")
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (org is not null) req.Headers.Add("X-Org-Id", org);
        using var resp = await Http.SendAsync(req);
        return (resp.StatusCode, await resp.Content.ReadFromJsonAsync<JsonElement>());
    }

    private async Task<List<List<string?>>> RowsAsync(string sql)
    {
        var (status, body) = await QueryAsync(new { sql, limit = 0 });
        Assert.True(status == HttpStatusCode.OK, $"{sql}: {status} {body}");
        return Rows(body);
    }

    private List<List<string?>> Oracle(string sql) => OracleValues.Oracle(
        $"CREATE VIEW bench AS SELECT * FROM read_ndjson_auto('{fx.FlatNdjson}', sample_size = -1)", sql);

    private static List<List<string?>> Rows(JsonElement body) => OracleValues.Rows(body);

    [Theory]
    [InlineData("SELECT count(*) FROM bench")]
    [InlineData("SELECT count(*) AS n FROM bench")]
    [InlineData("WITH bench AS (SELECT * FROM bench WHERE level = 'WARN') SELECT count(*) FROM bench")]
    [InlineData("SELECT count(*) FROM bench WHERE level = 'ERROR'")]
    [InlineData("SELECT service, count(*) AS c, round(avg(http_duration_ms), 6) FROM bench GROUP BY service ORDER BY c DESC, service")]
    [InlineData("SELECT _timestamp // 60000000 AS m, count(*) FROM bench GROUP BY m ORDER BY m")]
    [InlineData("SELECT kubernetes_pod_name, round(quantile_cont(http_duration_ms, 0.95), 6) AS p95 FROM bench WHERE http_status >= 500 GROUP BY 1 ORDER BY p95 DESC, 1 LIMIT 10")]
    [InlineData("SELECT level, count(*) FROM bench WHERE _timestamp >= 1767225610000000 AND _timestamp < 1767225640000000 GROUP BY level ORDER BY level")]
    [InlineData("SELECT _timestamp, service, message FROM bench ORDER BY _timestamp DESC, message LIMIT 100")]
    [InlineData("SELECT count(DISTINCT kubernetes_pod_name) FROM bench")]
    [InlineData("SELECT _timestamp, trace_id, level FROM bench ORDER BY _timestamp DESC LIMIT 50")]
    [InlineData("SELECT DISTINCT kubernetes_namespace FROM bench ORDER BY 1")]
    [InlineData("SELECT feature_flags, count(*) FROM bench WHERE feature_flags IS NOT NULL GROUP BY 1 ORDER BY 1")]
    [InlineData("SELECT count(*), count(user_id), min(user_id), max(user_id) FROM bench")]
    [InlineData("SELECT http_method, http_status, count(*) FROM bench WHERE http_method IS NOT NULL GROUP BY ALL ORDER BY ALL")]
    [InlineData("SELECT error_type, count(*) FROM bench WHERE error_type IS NOT NULL GROUP BY 1 ORDER BY 1")]
    [InlineData("SELECT trace_id, service FROM bench WHERE request_id IN (SELECT request_id FROM bench ORDER BY _timestamp LIMIT 3) ORDER BY trace_id")]
    public async Task Answers_equal_duckdb_over_the_same_records(string sql)
    {
        Assert.Equal(Oracle(sql), await RowsAsync(sql));
    }

    [Fact]
    public async Task Match_all_finds_whole_words_case_insensitively_and_prunes_files()
    {
        var expected = Oracle("SELECT count(*) FROM bench WHERE regexp_matches(lower(concat_ws(chr(10), message, error_stack)), '(^|[^a-z0-9])xyzzy3([^a-z0-9]|$)')");
        Assert.Equal(expected, await RowsAsync("SELECT count(*) FROM bench WHERE match_all('XYZZY3')"));
        var metricsBefore = await Http.GetStringAsync("/metrics");
        var (_, body) = await QueryAsync(new { sql = "SELECT count(*) FROM bench WHERE match_all('xyzzy3')" });
        var files = (await NodeQueries.FilesAsync(fx.Dir.Combine("node"), "bench")).Count;
        Assert.True(files > 1, $"the fixture should have flushed several files, has {files}");
        Assert.True(body.GetProperty("scanned_files").GetInt64() < files, $"scanned {body.GetProperty("scanned_files")} of {files} files");
        Assert.NotEqual(Pruned(metricsBefore), Pruned(await Http.GetStringAsync("/metrics")));
        Assert.Equal([["0"]], await RowsAsync("SELECT count(*) FROM bench WHERE match_all('nosuchwordanywhere')"));
        // Words, not substrings.
        Assert.Equal([["0"]], await RowsAsync("SELECT count(*) FROM bench WHERE match_all('xyzz')"));
    }

    [Fact]
    public async Task Rows_the_index_found_are_all_that_is_read_and_other_terms_still_hold()
    {
        // Before the first file ends, every row is in a file (the buffer holds the tail): the index answers.
        var end = (await NodeQueries.FilesAsync(fx.Dir.Combine("node"), "bench")).Min(f => f.MaxTs);
        const string needle = "(^|[^a-z0-9])xyzzy3([^a-z0-9]|$)";
        var sql = $"SELECT _timestamp, message FROM bench WHERE match_all('xyzzy3') AND _timestamp <= {end} ORDER BY 1";
        var expected = Oracle($"SELECT _timestamp, message FROM bench WHERE regexp_matches(lower(message), '{needle}') AND _timestamp <= {end} ORDER BY 1");
        Assert.NotEmpty(expected);
        var (_, body) = await QueryAsync(new { sql });
        Assert.Equal(expected, Rows(body));
        Assert.Equal(expected.Count, body.GetProperty("scanned_rows").GetInt64());

        // A match_all that is not a WHERE term is still evaluated per row.
        Assert.Equal([["false", expected.Count.ToString(CultureInfo.InvariantCulture)]],
            await RowsAsync($"SELECT match_all('nosuchwordanywhere') AS m, count(*) FROM bench WHERE match_all('xyzzy3') AND _timestamp <= {end} GROUP BY 1"));

        // A subquery reads the whole stream: the outer terms must not narrow what it sees.
        var all = Oracle($"SELECT count(*) FROM bench WHERE _timestamp <= {end}")[0][0];
        Assert.Equal([[expected.Count.ToString(CultureInfo.InvariantCulture), all]],
            await RowsAsync($"SELECT count(*), (SELECT count(*) FROM bench WHERE _timestamp <= {end}) FROM bench WHERE match_all('xyzzy3') AND _timestamp <= {end}"));
    }

    [Fact]
    public async Task Match_all_answers_the_same_from_the_buffer_and_from_the_index()
    {
        using var dir = new TempDir("ms-words");
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1" }, workDir: dir.Path);
        await node.WaitHealthyAsync();
        string[] messages = ["x² one", "Straße two", "ab😀cd three", "v1.2.3 release", "ÉTÉ four", "xyzzy-42 five", "Ⅳ six"];
        var lines = messages.Select((m, i) => JsonSerializer.Serialize(new { _timestamp = 1767225600000000L + i, message = m })).ToList();
        await NodeQueries.IngestAsync(node.Http, "words", lines, 100);
        (string Term, long Rows)[] expected =
        [
            ("x", 1), ("X", 1), ("straße", 1), ("ab", 1), ("cd", 1), ("v1", 1), ("2", 1), ("été", 1), ("xyzzy", 1),
            ("42", 1), ("six", 1), ("Ⅳ", 0), ("xyz", 0), ("ab cd", 1), ("x one", 1), ("x two", 0),
        ];
        async Task<(string, long)[]> Counts()
        {
            var counts = new List<(string, long)>();
            foreach (var (term, _) in expected)
            {
                using var resp = await node.Http.PostAsJsonAsync("/api/v1/query", new { sql = $"SELECT count(*) FROM words WHERE match_all('{term}')" });
                var body = await resp.Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(resp.IsSuccessStatusCode, body.ToString());
                counts.Add((term, body.GetProperty("rows")[0][0].GetInt64()));
            }
            return [.. counts];
        }
        Assert.Equal(expected, await Counts()); // from the buffer: the SQL test
        await Poll.UntilAsync(async () => (await NodeQueries.FilesAsync(dir.Path, "words")).Sum(f => f.Rows), n => n == messages.Length,
            TimeSpan.FromSeconds(30), "the records flushed");
        Assert.Equal(expected, await Counts()); // from the file: the index's rows
    }

    [Fact]
    public async Task A_limit_beside_a_newest_first_statement_reads_only_the_newest_files()
    {
        const string sql = "SELECT _timestamp, trace_id, level FROM bench ORDER BY _timestamp DESC";
        var (status, body) = await QueryAsync(new { sql, limit = 50 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Oracle(sql + " LIMIT 50"), Rows(body));
        var files = (await NodeQueries.FilesAsync(fx.Dir.Combine("node"), "bench")).Count;
        Assert.True(files > 1, $"{files} files");
        Assert.True(body.GetProperty("scanned_files").GetInt64() < files,
            $"scanned {body.GetProperty("scanned_files")} of {files} files");
    }

    [Fact]
    public async Task An_id_equality_skips_files_by_their_bloom_filters()
    {
        var trace = (await RowsAsync("SELECT trace_id FROM bench ORDER BY _timestamp LIMIT 1"))[0][0];
        var expected = Oracle($"SELECT _timestamp, service FROM bench WHERE trace_id = '{trace}' ORDER BY 1");
        var (_, body) = await QueryAsync(new { sql = $"SELECT _timestamp, service FROM bench WHERE trace_id = '{trace}' ORDER BY 1" });
        Assert.Equal(expected, Rows(body));
        var files = (await NodeQueries.FilesAsync(fx.Dir.Combine("node"), "bench")).Count;
        Assert.True(body.GetProperty("scanned_files").GetInt64() < files, $"scanned {body.GetProperty("scanned_files")} of {files} files");
        // An id that exists nowhere scans no file at all.
        (_, body) = await QueryAsync(new { sql = "SELECT count(*) FROM bench WHERE request_id = 'no-such-request'" });
        Assert.Equal(0, body.GetProperty("scanned_files").GetInt64());
    }

    private static double Pruned(string metrics) =>
        double.Parse(metrics.Split('\n').First(l => l.StartsWith("tantivy_pruned_files_total ")).Split(' ')[1], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Openobserve_functions_work()
    {
        Assert.Equal(Oracle("SELECT count(*) FROM bench WHERE contains(message, 'timeout')"), await RowsAsync("SELECT count(*) FROM bench WHERE str_match(message, 'timeout')"));
        Assert.Equal(Oracle("SELECT count(*) FROM bench WHERE contains(lower(message), 'get')"), await RowsAsync("SELECT count(*) FROM bench WHERE str_match_ignore_case(message, 'GeT')"));
        Assert.Equal(Oracle("SELECT count(*) FROM bench WHERE regexp_matches(message, '^POST .* 5[0-9][0-9] ')"), await RowsAsync("SELECT count(*) FROM bench WHERE re_match(message, '^POST .* 5[0-9][0-9] ')"));
        Assert.Equal(Oracle("SELECT _timestamp // 60000000 * 60000000 AS m, count(*) FROM bench GROUP BY 1 ORDER BY 1"),
            await RowsAsync("SELECT histogram(_timestamp, '1 minute') AS m, count(*) FROM bench GROUP BY 1 ORDER BY 1"));
    }

    [Fact]
    public async Task Logs_streams_are_also_named_with_the_logs_schema()
    {
        Assert.Equal(await RowsAsync("SELECT _timestamp, trace_id FROM bench ORDER BY _timestamp DESC LIMIT 3"),
            await RowsAsync("SELECT _timestamp, trace_id FROM logs.bench ORDER BY _timestamp DESC LIMIT 3"));
    }

    [Fact]
    public async Task Request_time_range_and_limit_apply()
    {
        var (status, body) = await QueryAsync(new { sql = "SELECT count(*) FROM bench", start_time = 1767225610000000L, end_time = "2026-01-01T00:00:40Z" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Oracle("SELECT count(*) FROM bench WHERE _timestamp >= 1767225610000000 AND _timestamp < 1767225640000000"),
            [[OracleValues.Normalize(body.GetProperty("rows")[0][0])]]);
        (_, body) = await QueryAsync(new { sql = "SELECT * FROM bench", limit = 7 });
        Assert.Equal(7, body.GetProperty("rows").GetArrayLength());
        Assert.Contains(body.GetProperty("columns").EnumerateArray(), c => c.GetProperty("name").GetString() == "kubernetes_pod_name");
    }

    [Fact]
    public async Task A_record_is_queryable_as_soon_as_it_is_acknowledged()
    {
        var content = new StringContent("{\"_timestamp\":1750000000000000,\"message\":\"fresh needle zzfreshzz\",\"level\":\"INFO\"}");
        using (var resp = await Http.PostAsync("/api/v1/ingest/fresh", content)) Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal([["1"]], await RowsAsync("SELECT count(*) FROM fresh WHERE match_all('zzfreshzz')"));

        // Other stream types are tables in their own schema.
        var metric = new StringContent("{\"_timestamp\":1750000000000000,\"cpu\":0.5}");
        using (var resp = await Http.PostAsync("/api/v1/ingest/fresh?type=metrics", metric)) Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal([["0.5", "1"]], await RowsAsync("SELECT m.cpu, count(*) OVER () FROM metrics.fresh AS m JOIN logs.fresh AS l ON l._timestamp = m._timestamp"));
    }

    [Theory]
    [InlineData("SELECT * FROM read_text('/etc/passwd')", "forbidden")]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')", "forbidden")]
    [InlineData("SELECT * FROM read_parquet('/tmp/*.parquet')", "forbidden")]
    [InlineData("SELECT * FROM glob('/*')", "forbidden")]
    [InlineData("SELECT * FROM 'data/meta.db'", "forbidden")]
    [InlineData("SELECT * FROM read_csv('https://example.com/x.csv')", "forbidden")]
    [InlineData("SELECT * FROM duckdb_settings()", "forbidden")]
    [InlineData("SELECT current_setting('allowed_directories')", "forbidden")]
    [InlineData("SELECT getenv('HOME')", "forbidden")]
    [InlineData("COPY (SELECT 1) TO '/tmp/out.csv'", "invalid_sql")]
    [InlineData("ATTACH 'data/meta.db' AS m", "invalid_sql")]
    [InlineData("INSTALL httpfs", "invalid_sql")]
    [InlineData("LOAD httpfs", "invalid_sql")]
    [InlineData("SET enable_external_access = true", "invalid_sql")]
    [InlineData("PRAGMA enable_profiling", "invalid_sql")]
    [InlineData("RESET threads", "invalid_sql")]
    [InlineData("CREATE TABLE t AS SELECT 1", "invalid_sql")]
    [InlineData("SELECT 1; SELECT 2", "invalid_sql")]
    [InlineData("SELECT * FROM system.main.bench", "forbidden")]
    [InlineData("SELECT * FROM acme.bench", "forbidden")]
    [InlineData("SELECT * FROM bench WHERE", "invalid_sql")]
    public async Task Sandbox_escapes_are_400_and_change_nothing(string sql, string error)
    {
        var (status, body) = await QueryAsync(new { sql });
        Assert.True(status == HttpStatusCode.BadRequest, $"{sql}: {status} {body}");
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.DoesNotContain(fx.Dir.Path, body.GetProperty("message").GetString());
        Assert.False(File.Exists("/tmp/out.csv"));
        Assert.Equal([[QueryNodeFixture.Records.ToString()]], await RowsAsync("SELECT count(*) FROM bench"));
    }

    [Fact]
    public async Task Another_orgs_streams_do_not_exist()
    {
        var (status, body) = await QueryAsync(new { sql = "SELECT count(*) FROM bench" }, org: "intruder");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("bench", body.GetProperty("message").GetString());
        (status, _) = await QueryAsync(new { sql = "SELECT count(*) FROM bench" }, org: "../default");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Bad_requests_are_400()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(new { nosql = 1 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync(new { sql = "SELECT 1", start_time = "yesterday" })).Status);
        using var resp = await Http.PostAsync("/api/v1/query", new StringContent("not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, resp.StatusCode);
    }

    [Fact]
    public async Task Stream_returns_columns_rows_and_stats_as_ndjson()
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query/stream")
        {
            Content = JsonContent.Create(new { sql = "SELECT _timestamp, service FROM bench ORDER BY _timestamp" }),
        };
        using var resp = await Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("application/x-ndjson", resp.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync());
        var first = JsonDocument.Parse((await reader.ReadLineAsync())!).RootElement;
        Assert.Equal(["_timestamp", "service"], first.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        var rows = 0;
        string? line, last = null;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            if (line.StartsWith('[')) rows++;
            else last = line;
        }
        Assert.Equal(QueryNodeFixture.Records, rows); // no default limit on the stream
        Assert.Equal(QueryNodeFixture.Records, JsonDocument.Parse(last!).RootElement.GetProperty("rows").GetInt32());
    }

    [Fact]
    public async Task Streaming_a_large_result_keeps_server_memory_flat()
    {
        long Rss() => long.Parse(File.ReadAllLines($"/proc/{fx.Node.Process.Pid}/status").First(l => l.StartsWith("VmRSS")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        // A result much larger than the allowed growth: every column of every row, four times over.
        var sql = "SELECT a.*, b.n FROM bench a, range(12) b(n)";
        var before = Rss();
        long peak = 0, bytes = 0;
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query/stream") { Content = JsonContent.Create(new { sql }) };
        using var resp = await Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await resp.Content.ReadAsStreamAsync();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
        {
            bytes += n;
            if (bytes % (16 << 20) < n) peak = Math.Max(peak, Rss());
        }
        Assert.True(bytes > 400L << 20, $"result was only {bytes >> 20} MiB");
        Assert.True(peak - before < 300L << 20, $"RSS grew {(peak - before) >> 20} MiB while streaming {bytes >> 20} MiB");
    }
}
