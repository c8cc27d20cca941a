using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace MoleSignal.Tests.Processes;

/// <summary>
/// Randomized, seeded and bounded: generated and mutated ingest bodies and SQL statements against the real
/// binary. The seed is printed (set MS_FUZZ_SEED to replay a run).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private Random Seeded(string test)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("MS_FUZZ_SEED"), out var s) ? s : Random.Shared.Next();
        output.WriteLine($"{test}: seed {seed} (MS_FUZZ_SEED={seed} replays it)");
        Console.WriteLine($"{test}: seed {seed}");
        return new Random(seed);
    }

    [Fact]
    public async Task Mutated_ingest_bodies_never_get_a_5xx_and_every_accepted_record_reaches_the_files()
    {
        var rng = Seeded(nameof(Mutated_ingest_bodies_never_get_a_5xx_and_every_accepted_record_reaches_the_files));
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
            ["MS_ROUTER.RATE_LIMIT.INGEST_QPS"] = "0",
            ["MS_INGESTER.MAX_STREAM_FIELDS"] = "300",
        });
        await node.WaitHealthyAsync();
        var accepted = new Dictionary<string, long>();
        for (var i = 0; i < 300; i++)
        {
            var stream = $"f{rng.Next(4)}";
            var body = IngestBody(rng);
            var encoding = rng.Next(6) switch { 0 => "gzip", 1 => "zstd", 2 => "deflate", _ => null };
            if (encoding is not null) body = Compress(body, encoding);
            if (encoding is not null && rng.Next(8) == 0) body[rng.Next(body.Length)] ^= (byte)rng.Next(1, 256); // a broken frame
            using var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ingest/{stream}") { Content = new ByteArrayContent(body) };
            req.Content.Headers.ContentType = new MediaTypeHeaderValue(rng.Next(2) == 0 ? "application/x-ndjson" : "application/json");
            if (encoding is not null) req.Content.Headers.ContentEncoding.Add(encoding);
            using var resp = await node.Http.SendAsync(req);
            var text = await resp.Content.ReadAsStringAsync();
            Assert.True((int)resp.StatusCode < 500, $"request {i} ({encoding}): {(int)resp.StatusCode} {text}");
            var json = JsonDocument.Parse(text).RootElement;
            if (resp.StatusCode == HttpStatusCode.OK)
                accepted[stream] = accepted.GetValueOrDefault(stream) + json.GetProperty("accepted").GetInt64();
            else
                Assert.True(json.TryGetProperty("error", out _) && json.TryGetProperty("message", out _), text);
        }
        Assert.True(accepted.Values.Sum() > 0);
        foreach (var (stream, n) in accepted)
        {
            await Poll.UntilAsync(async () => (await NodeQueries.FilesAsync(node.WorkDir, stream)).Sum(f => f.Rows), rows => rows == n, Deadline,
                $"{n} accepted records of {stream} in files");
            // The stream's flushes keep succeeding, and a query reads every file.
            var (status, body) = await HardeningProcessTests.QueryAsync(node.Http, $"SELECT count(*) FROM (SELECT * FROM {stream})");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(n, body.GetProperty("rows")[0][0].GetInt64());
        }
        Assert.False(node.Process.HasExited);
    }

    private static byte[] IngestBody(Random rng)
    {
        var records = new List<string>();
        for (var r = rng.Next(1, 20); r > 0; r--) records.Add(Record(rng));
        var text = rng.Next(3) == 0 ? "[" + string.Join(",", records) + "]" : string.Join("\n", records);
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        for (var m = rng.Next(4); m > 0 && bytes.Count > 0; m--)
        {
            var at = rng.Next(bytes.Count);
            switch (rng.Next(5))
            {
                case 0: bytes.RemoveAt(at); break;
                case 1: bytes.Insert(at, (byte)Punctuation[rng.Next(Punctuation.Length)]); break;
                case 2: bytes.InsertRange(at, new[] { (byte)0xFF, (byte)0xC3, (byte)0xED, (byte)0xA0, (byte)0x80 }.Take(rng.Next(1, 5))); break;
                case 3: bytes.Insert(at, (byte)rng.Next(256)); break;
                default: bytes.InsertRange(at, bytes.Skip(at).Take(rng.Next(1, 40)).ToList()); break;
            }
        }
        if (rng.Next(30) == 0) return [.. Enumerable.Range(0, rng.Next(1, 2000)).Select(_ => (byte)rng.Next(256))];
        return [.. bytes];
    }

    private const string Punctuation = "{}[]\",:\\ \n0eE-.";

    private static string Record(Random rng)
    {
        var fields = new List<string> { $"\"message\":\"{Word(rng)} {Word(rng)}\"" };
        switch (rng.Next(10))
        {
            case 0: fields.Add($"\"_timestamp\":{Pick(rng, "-99999999999", "0", "1e308", "-1e308", "99999999999999999999", "1700000000", "\"2024-02-30T00:00:00Z\"", "\"nope\"", "null", "1.5e15")}"); break;
            case 1: fields.Add($"\"{new string('k', rng.Next(200, 400))}\":1"); break;
            case 2: fields.Add("\"deep\":" + new string('[', 40) + new string(']', 40)); break;
            case 3: fields.Add(string.Join(",", Enumerable.Range(0, rng.Next(100, 1200)).Select(k => $"\"w{rng.Next(5000)}_{k}\":{k}"))); break;
            case 4: fields.Add($"\"lone\":\"\\ud83d{Word(rng)}\""); break;
            case 5: fields.Add($"\"n\":{Pick(rng, "1e400", "-0", "123456789012345678901234567890", "3.14", "true", "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}")}"); break;
            default: fields.Add($"\"level\":\"{Pick(rng, "info", "warn", "error")}\",\"code\":{rng.Next(1000)}"); break;
        }
        return "{" + string.Join(",", fields) + "}";
    }

    private static string Word(Random rng) => new(Enumerable.Range(0, rng.Next(1, 10)).Select(_ => (char)('a' + rng.Next(26))).ToArray());

    private static string Pick(Random rng, params string[] options) => options[rng.Next(options.Length)];

    private static byte[] Compress(byte[] data, string encoding)
    {
        if (encoding == "zstd") return new ZstdSharp.Compressor().Wrap(data).ToArray();
        using var ms = new MemoryStream();
        using (Stream z = encoding == "gzip" ? new GZipStream(ms, CompressionLevel.Fastest) : new ZLibStream(ms, CompressionLevel.Fastest)) z.Write(data);
        return ms.ToArray();
    }

    private static readonly string[] SqlCorpus =
    [
        "SELECT * FROM s",
        "SELECT count(*) FROM s WHERE match_all('alpha')",
        "SELECT message FROM s WHERE level = 'info' ORDER BY _timestamp DESC LIMIT 5",
        "WITH x AS (SELECT * FROM s) SELECT count(*) FROM x",
        "SELECT * FROM s WHERE str_match(message, 'secret')",
        "SELECT histogram(_timestamp, '1 minute') AS t, count(*) FROM s GROUP BY t",
        "SUMMARIZE s",
        "SELECT * FROM (SELECT * FROM s) q WHERE match_all('alpha secret')",
        "SELECT * FROM pg_settings",
        "SELECT * FROM duckdb_settings()",
        "SELECT current_setting('allowed_directories')",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM s UNION ALL SELECT * FROM other.s",
        "SELECT * FROM 'data/meta.db'",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM s WHERE match_all('a') UNION ALL SELECT name, value FROM duckdb_settings()",
    ];

    private static readonly string[] Noise =
        [" ", "\n", "/* c */", "-- c\n", "/*/**/*/", "'", "\"", "''", ";", "--", "(", ")", "match_all", "/*", "*/", "$$", "E'\\''"];

    [Fact]
    public async Task Mutated_sql_answers_200_with_only_the_orgs_data_or_a_4xx()
    {
        var rng = Seeded(nameof(Mutated_sql_answers_200_with_only_the_orgs_data_or_a_4xx));
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_ROUTER.RATE_LIMIT.QUERY_QPS"] = "0" });
        await node.WaitHealthyAsync();
        foreach (var (org, marker) in new[] { ("alpha", "alpha secret A1"), ("beta", "beta secret B2") })
            Assert.Equal(HttpStatusCode.OK, (await HardeningProcessTests.PostAsync(node.Http, "/api/v1/ingest/s",
                Encoding.UTF8.GetBytes($"{{\"message\": \"{marker}\", \"level\": \"info\"}}"), org)).Status);
        var leaks = new[] { "beta secret", node.WorkDir, "/tmp/", "allowed_directories", "enable_external_access", "memory_limit", "root:" };
        var counts = new Dictionary<int, int>();
        for (var i = 0; i < 400; i++)
        {
            var sql = Mutate(rng, SqlCorpus[rng.Next(SqlCorpus.Length)]);
            var (status, body) = await HardeningProcessTests.QueryAsync(node.Http, sql, "alpha");
            var text = body.GetRawText();
            counts[(int)status] = counts.GetValueOrDefault((int)status) + 1;
            Assert.True(status == HttpStatusCode.OK || (int)status is >= 400 and < 500, $"{sql}\n=> {(int)status} {text}");
            if (status != HttpStatusCode.OK) continue;
            // A statement may echo its own literals and aliases; only text it did not write itself is a leak.
            foreach (var leak in leaks)
                if (!sql.Contains(leak, StringComparison.Ordinal))
                    Assert.False(text.Contains(leak, StringComparison.Ordinal), $"{sql}\n=> leaked {leak}: {text}");
        }
        output.WriteLine(string.Join(", ", counts.Select(c => $"{c.Key}: {c.Value}")));
        Assert.False(node.Process.HasExited);
    }

    /// <summary>Noise inserted at token boundaries (before or after a space or punctuation).</summary>
    private static string Mutate(Random rng, string sql)
    {
        var sb = new StringBuilder(sql);
        for (var m = rng.Next(0, 4); m > 0; m--)
        {
            var boundaries = Enumerable.Range(0, sb.Length + 1)
                .Where(k => k == 0 || k == sb.Length || !char.IsLetterOrDigit(sb[k - 1]) || !char.IsLetterOrDigit(sb[k])).ToList();
            sb.Insert(boundaries[rng.Next(boundaries.Count)], Noise[rng.Next(Noise.Length)]);
        }
        return sb.ToString();
    }
}
