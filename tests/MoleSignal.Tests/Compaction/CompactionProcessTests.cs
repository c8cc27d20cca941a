using System.Net;
using System.Text.Json;
using MoleSignal.Grains.Metadata;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Compaction;

/// <summary>
/// The binary's compactor on SQLite and the local store: small files of several days merge into one file a day,
/// a fixed set of queries answers the same before and after (and as the records say), the replaced objects go
/// after the delay, and a kill -9 after the merge replays nothing the merged files hold.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CompactionProcessTests
{
    private const int Rounds = 4, PerRound = 600, Days = 3; // and one more round after the merge

    /// <summary>The records' days count back from the start of today (UTC): counted from now, a record an hour
    /// after "now minus a day" falls in the next day when the test runs in the day's last hour.</summary>
    private static long StartOfTodayUtc()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        return now - now % Partitions.MicrosPerDay;
    }

    /// <summary>Records of <see cref="Days"/> days (1 to 3 days ago), each round's in its own flush.</summary>
    private static List<string>[] Records(long now, out List<(long Ts, string Level, string Word, string TraceId)> all)
    {
        var rng = new Random(1301);
        all = [];
        var rounds = new List<string>[Rounds + 1];
        string[] levels = ["info", "warn", "error"], words = ["alpha", "bravo", "charlie", "delta"];
        for (var r = 0; r <= Rounds; r++)
        {
            rounds[r] = [];
            for (var i = 0; i < PerRound; i++)
            {
                var day = 1 + i % Days;
                var ts = now - day * Partitions.MicrosPerDay + rng.NextInt64(0, 3_600_000_000L);
                var rec = (ts, levels[rng.Next(levels.Length)], words[rng.Next(words.Length)], $"t{r}-{i}");
                all.Add(rec);
                rounds[r].Add(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["_timestamp"] = rec.ts, ["level"] = rec.Item2,
                    ["message"] = $"round {r} record {i} says {rec.Item3}",
                    ["trace_id"] = rec.Item4, ["n"] = i,
                }));
            }
        }
        return rounds;
    }

    private static readonly string[] FixedQueries =
    [
        "SELECT count(*) FROM app",
        "SELECT level, count(*) AS c, sum(n) AS s FROM app GROUP BY level ORDER BY level",
        "SELECT count(*) FROM app WHERE match_all('charlie')",
        "SELECT trace_id, n FROM app WHERE trace_id = 't2-17'",
        "SELECT trace_id FROM app ORDER BY _timestamp DESC LIMIT 5",
        "SELECT count(DISTINCT trace_id), min(_timestamp), max(_timestamp) FROM app",
    ];

    private static Task<List<string>> AnswersAsync(HttpClient http) => NodeQueries.RowsAsync(http, FixedQueries);

    private static Dictionary<string, string> Env(string compactorInterval) => new()
    {
        ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
        ["MS_COMPACTOR.INTERVAL_SECS"] = compactorInterval,
        ["MS_COMPACTOR.DELETE_DELAY_SECS"] = "1",
    };

    [Fact]
    public async Task Small_files_merge_into_a_file_a_day_and_every_query_answers_the_same()
    {
        using var dir = new TempDir("ms-compact");
        var rounds = Records(StartOfTodayUtc(), out var all);
        List<string> before;
        long acked, uncertain;
        IReadOnlyList<FileMeta> small;
        using (var node = MoleSignalNode.Start(Env("3600"), workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            for (var r = 0; r < Rounds; r++)
            {
                await NodeQueries.IngestAsync(node.Http, "app", rounds[r], PerRound);
                var want = (r + 1) * Days;
                await Poll.UntilAsync(async () => (await NodeQueries.FilesAsync(dir.Path, "app")).Count, n => n >= want,
                    TimeSpan.FromSeconds(60), $"{want} data files");
            }
            small = await NodeQueries.FilesAsync(dir.Path, "app");
            Assert.Equal(Rounds * Days, small.Count);
            before = await AnswersAsync(node.Http);
        }

        // What the records say, so "the same" is also right.
        var first = all.Take(Rounds * PerRound).ToList();
        Assert.Equal($"[[{first.Count}]]", before[0]);
        Assert.Equal($"[[{first.Count(r => r.Word == "charlie")}]]", before[2]);
        Assert.Equal("[[\"t2-17\",17]]", before[3]);
        var newest = first.OrderByDescending(r => r.Ts).Take(5).Select(r => new[] { r.TraceId });
        Assert.Equal(JsonSerializer.Serialize(newest), before[4]);

        using (var node = MoleSignalNode.Start(Env("1"), workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            var merged = await Poll.UntilAsync(() => NodeQueries.FilesAsync(dir.Path, "app"), f => f.Count == Days,
                TimeSpan.FromSeconds(120), "one file a day");
            Assert.All(merged, f => Assert.StartsWith("c", f.FileId));
            Assert.Equal(first.Count, merged.Sum(f => f.Rows));
            Assert.Equal(before, await AnswersAsync(node.Http));
            // The inputs' objects go once the delay has passed.
            bool Exists(string key) => File.Exists(NodeQueries.ObjectPath(dir.Path, key));
            await Poll.UntilAsync(() => Task.FromResult(small.Count(f => Exists(f.ObjectKey) || Exists(f.IndexKey))),
                n => n == 0, TimeSpan.FromSeconds(60), "replaced objects deleted");
            Assert.All(merged, f => Assert.True(File.Exists(NodeQueries.ObjectPath(dir.Path, f.ObjectKey))));

            // Ingest goes on while files flush and merge, so the WAL holds entries of merged files when the kill
            // comes; recovery must skip exactly those (the merged files' WAL ranges name them).
            using var stop = new CancellationTokenSource();
            var ingest = IngestUntilAsync(node.Http, stop.Token);
            await Poll.UntilAsync(() => NodeQueries.FilesAsync(dir.Path, "app"),
                f => f.Any(x => x.WalRanges.Contains(',')),
                TimeSpan.FromSeconds(120), "a merged file with runs of two WAL epochs");
            await Poll.UntilAsync(() => NodeQueries.FilesAsync(dir.Path, "app"),
                f => f.Sum(x => x.Rows) >= first.Count + 2000,
                TimeSpan.FromSeconds(120), "more rounds flushed");
            node.Process.Kill();
            await stop.CancelAsync();
            (acked, uncertain) = await ingest;
        }

        using (var node = MoleSignalNode.Start(Env("3600"), workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            var counts = (await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
                new
                {
                    sql = "SELECT count(*), count(DISTINCT trace_id), " +
                          "count(*) FILTER (WHERE trace_id LIKE 'live-%') FROM app",
                }))
                .GetProperty("rows")[0];
            Assert.Equal(counts[0].GetInt64(), counts[1].GetInt64()); // no record twice
            Assert.InRange(counts[2].GetInt64(), acked, acked + uncertain);
            Assert.Equal(first.Count + counts[2].GetInt64(), counts[0].GetInt64());
        }
    }

    /// <summary>Batches of 50 fresh records until cancelled or the node dies; how many were acknowledged or cut
    /// off.</summary>
    private static async Task<(long Acked, long Uncertain)> IngestUntilAsync(HttpClient http, CancellationToken stop)
    {
        long acked = 0, uncertain = 0;
        for (var b = 0; !stop.IsCancellationRequested; b++)
        {
            var now = StartOfTodayUtc() + b;
            var lines = Enumerable.Range(0, 50).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["_timestamp"] = now - (i % Days + 1) * Partitions.MicrosPerDay, ["level"] = "info",
                ["message"] = "live record", ["trace_id"] = $"live-{b}-{i}", ["n"] = i,
            }));
            try
            {
                using var resp = await http.PostAsync("/api/v1/ingest/app", new StringContent(string.Join("\n", lines)),
                    CancellationToken.None);
                if (resp.StatusCode != HttpStatusCode.OK) return (acked, uncertain + 50);
                acked += 50;
            }
            catch (HttpRequestException)
            {
                return (acked, uncertain + 50);
            }
            await Task.Delay(20, CancellationToken.None);
        }
        return (acked, uncertain);
    }
}
