using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Compaction;

/// <summary>
/// The binary's file_meta_dumper on SQLite and Postgres: cold days leave <c>file_meta</c> for one manifest each and
/// every query answers as before; late files of a dumped day merge with the manifest's files; the dumped day is
/// dumped again under a new manifest; retention expires a dumped day; a deleted stream takes its manifests along.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FileMetaDumpProcessTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    private const int Days = 3, PerDay = 120;

    private static readonly string[] FixedQueries =
    [
        "SELECT count(*), count(DISTINCT id), min(_timestamp), max(_timestamp) FROM app",
        "SELECT level, count(*), sum(n) FROM app GROUP BY level ORDER BY level",
        "SELECT count(*) FROM app WHERE match_all('needle')",
        "SELECT id, n FROM app WHERE id = 'd2-r1-17'",
        "SELECT id FROM app ORDER BY _timestamp DESC LIMIT 5",
    ];

    private static string Line(long ts, string id, int n) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["_timestamp"] = ts, ["id"] = id, ["n"] = n, ["level"] = n % 3 == 0 ? "warn" : "info",
        ["message"] = n % 5 == 0 ? $"a needle in {id}" : $"hay {id}",
    });

    private static Task<List<string>> AnswersAsync(HttpClient http) => NodeQueries.RowsAsync(http, FixedQueries);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Cold_days_move_to_manifests_and_answer_merge_expire_and_delete_as_before(string backend)
    {
        using var dir = new TempDir("ms-dump");
        var env = new Dictionary<string, string>
        {
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
            ["MS_COMPACTOR.INTERVAL_SECS"] = "3600",
            ["MS_COMPACTOR.DELETE_DELAY_SECS"] = "1",
            ["MS_STORAGE.FILE_META_DUMP.INTERVAL_SECS"] = "3600",
            ["MS_STORAGE.FILE_META_DUMP.COLD_AFTER_DAYS"] = "1",
        };
        Func<MetaStore> meta = () => MetaStore.Sqlite(Path.Combine(dir.Path, "data", "meta.db"));
        if (backend == "postgres")
        {
            var db = await pg.CreateDatabaseAsync();
            env["MS_STORE.META.BACKEND"] = "postgres";
            env["MS_STORE.META.DSN"] = pg.Dsn(db);
            meta = () => MetaStore.Postgres(pg.Dsn(db), 2);
        }
        var key = new StreamKey("default", "logs", "app");
        async Task<(int Live, long Dumped)> Counts()
        {
            await using var m = meta();
            var live = (await new StreamMetaStore(m).FilesAsync(key)).Count;
            return (live, Convert.ToInt64(await m.ScalarAsync("SELECT COUNT(*) FROM dumped_partitions")));
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var today = Partitions.DayOf(now);
        // Two flushes a day for days 1-3 ago (six small files), and today's records.
        List<string> Round(int r, int daysAgo) => Enumerable.Range(0, PerDay)
            .Select(i =>
                Line(Partitions.DayStart(today - daysAgo) + 3_600_000_000L * (r + 1) + i, $"d{daysAgo}-r{r}-{i}", i))
            .ToList();

        List<string> before;
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            for (var r = 0; r < 2; r++)
            {
                foreach (var d in Enumerable.Range(1, Days))
                    await NodeQueries.IngestAsync(node.Http, "app", Round(r, d), PerDay);
                await Poll.UntilAsync(Counts, c => c.Live == (r + 1) * Days, TimeSpan.FromSeconds(60),
                    $"round {r} flushed");
            }
            await NodeQueries.IngestAsync(node.Http, "app", [Line(now, "today-0", 0)], 1);
            await Poll.UntilAsync(Counts, c => c.Live == 2 * Days + 1, TimeSpan.FromSeconds(60), "today flushed");
            before = await AnswersAsync(node.Http);
        }
        var first = JsonDocument.Parse(before[0]).RootElement[0];
        Assert.Equal(2 * Days * PerDay + 1, first[0].GetInt64());
        Assert.Equal(2 * Days * PerDay + 1, first[1].GetInt64());

        // The dumper every second: days 1-3 go to manifests, today stays.
        env["MS_STORAGE.FILE_META_DUMP.INTERVAL_SECS"] = "1";
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            await Poll.UntilAsync(Counts, c => c == (1, Days), TimeSpan.FromSeconds(60), "three days dumped");
            Assert.Equal(before, await AnswersAsync(node.Http));
            var listed = (await NodeQueries.StreamAsync(node.Http, "app"))!.Value;
            Assert.Equal(2 * Days * PerDay + 1, listed.GetProperty("records").GetInt64());
            Assert.Equal(2 * Days + 1, listed.GetProperty("files").GetInt64());
            var manifests = Directory.GetFiles(Path.Combine(dir.Path, "data", "objects"), "_file_meta-*.parquet",
                SearchOption.AllDirectories);
            Assert.Equal(Days, manifests.Length);
            var metrics = await node.Http.GetStringAsync("/metrics");
            Assert.True(NodeMetrics.Value(metrics, "file_meta_dump_rows_total") >= 2 * Days);

            // Late records of dumped day 2, in two flushes: live small files beside the manifest.
            foreach (var r in new[] { 5, 6 })
            {
                await NodeQueries.IngestAsync(node.Http, "app", Round(r, 2), PerDay);
                await Poll.UntilAsync(
                    async () => (await NodeQueries.StreamAsync(node.Http, "app"))!.Value
                        .GetProperty("files").GetInt64(),
                    n => n >= 2 * Days + 1 + (r - 4), TimeSpan.FromSeconds(60), "late files flushed");
            }
        }

        // The compactor too: day 2's manifest comes back and its four files merge into one; the dumper then dumps
        // day 2 again, under a new manifest.
        env["MS_COMPACTOR.INTERVAL_SECS"] = "1";
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            await Poll.UntilAsync(async () =>
            {
                await using var m = meta();
                return Convert.ToInt64(await m.ScalarAsync(
                    $"SELECT files FROM dumped_partitions WHERE day = {today - 2} " +
                    "AND manifest_key LIKE '%/_file_meta-%'"));
            }, n => n == 1, TimeSpan.FromSeconds(90), "day 2 merged into one file and dumped again");
            var answers = await AnswersAsync(node.Http);
            var total = (await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
                new { sql = "SELECT count(*), count(DISTINCT id) FROM app" })).GetProperty("rows")[0];
            Assert.Equal(2 * Days * PerDay + 1 + 2 * PerDay, total[0].GetInt64());
            Assert.Equal(total[0].GetInt64(), total[1].GetInt64());
            Assert.Equal(before[3], answers[3]); // the bloom lookup still finds its one record
            Assert.Equal(before[4], answers[4]); // newest-n: today's record and day 1's newest

            // Retention of two days: day 3 (dumped) expires whole; days 1 and 2 stay.
            await AuthApi.SendAsync(node.Http, HttpMethod.Put, "/api/v1/streams/app/settings",
                new { retention_days = 2 });
            await Poll.UntilAsync(Counts, c => c.Dumped == Days - 1, TimeSpan.FromSeconds(60), "day 3 expired");
            var left = (await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/query",
                new { sql = "SELECT count(*) FROM app" })).GetProperty("rows")[0][0].GetInt64();
            Assert.Equal(2 * Days * PerDay + 1 + 2 * PerDay - 2 * PerDay, left);

            // Deleting the stream deletes the files its manifests list, and the manifests.
            await AuthApi.SendAsync(node.Http, HttpMethod.Delete, "/api/v1/streams/app");
            Assert.Equal((0, 0L), await Counts());
            var ofApp = $"{Path.DirectorySeparatorChar}app{Path.DirectorySeparatorChar}";
            var objects = Path.Combine(dir.Path, "data", "objects");
            await Poll.UntilAsync(() => Task.FromResult(Directory.GetFiles(objects, "*", SearchOption.AllDirectories)
                    .Count(f => f.Contains(ofApp))),
                n => n == 0, TimeSpan.FromSeconds(60), "every object of the stream deleted");
        }
    }
}
