using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MoleSignal.Tests.Processes;

[Collection(ProcessCollection.Name)]
public sealed class SearchJobTests(PostgresServer pg) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path,
        object? body = null, string? prefer = null, string? org = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body is not null) req.Content = JsonContent.Create(body);
        if (prefer is not null) req.Headers.TryAddWithoutValidation("Prefer", prefer);
        if (org is not null) req.Headers.Add("X-Org-Id", org);
        using var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        return (resp.StatusCode, text.Length > 0 && text[0] is '{' or '[' ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    private static async Task<string> SubmitAsync(HttpClient http, string sql, string? org = null)
    {
        var (status, body) = await SendAsync(http, HttpMethod.Post, "/api/v1/query", new { sql }, "respond-async", org);
        Assert.True(status == HttpStatusCode.Accepted, body.ToString());
        Assert.Equal($"/api/v1/query/jobs/{body.GetProperty("job_id").GetString()}", body.GetProperty("status_url").GetString());
        return body.GetProperty("job_id").GetString()!;
    }

    private static Task<JsonElement> WaitStateAsync(HttpClient http, string id, string state, string? org = null) =>
        Poll.UntilAsync(async () => (await SendAsync(http, HttpMethod.Get, $"/api/v1/query/jobs/{id}", org: org)).Body,
            b => b.ValueKind == JsonValueKind.Object && b.GetProperty("state").GetString() == state, Deadline, $"job {id} {state}");

    private static async Task IngestAsync(HttpClient http)
    {
        var lines = Encoding.UTF8.GetString(GenLogs.Generate(5_000)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await NodeQueries.IngestAsync(http, "bench", lines, 5_000);
    }

    [Fact]
    public async Task An_async_result_equals_the_synchronous_one_and_other_orgs_cannot_see_the_job()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string> { ["MS_SEARCH_JOBS.IDLE_POLL_SECS"] = "1" });
        await node.WaitHealthyAsync();
        await IngestAsync(node.Http);
        const string sql = "SELECT service, count(*) AS c, round(avg(http_duration_ms), 3) AS d FROM bench GROUP BY service ORDER BY c DESC, service";
        var (_, sync) = await SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql }, "respond-sync");
        var id = await SubmitAsync(node.Http, sql);
        var job = await WaitStateAsync(node.Http, id, "done");
        Assert.Equal(sync.GetProperty("rows").GetArrayLength(), job.GetProperty("rows").GetInt32());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        using (var resp = await node.Http.GetAsync(job.GetProperty("result_url").GetString()))
        {
            Assert.Equal("application/x-ndjson", resp.Content.Headers.ContentType?.MediaType);
            var lines = (await resp.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var asyncRows = lines.Select(l => JsonDocument.Parse(l).RootElement).Select(o => $"{o.GetProperty("service")}|{o.GetProperty("c")}|{o.GetProperty("d")}");
            var syncRows = sync.GetProperty("rows").EnumerateArray().Select(r => $"{r[0]}|{r[1]}|{r[2]}");
            Assert.Equal(syncRows, asyncRows);
        }
        Assert.True(File.Exists(NodeQueries.ObjectPath(node.WorkDir, $"default/search_jobs/{id}.ndjson")));

        // Another org: the job does not exist.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(node.Http, HttpMethod.Get, $"/api/v1/query/jobs/{id}", org: "other")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(node.Http, HttpMethod.Get, $"/api/v1/query/jobs/{id}/result", org: "other")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(node.Http, HttpMethod.Delete, $"/api/v1/query/jobs/{id}", org: "other")).Status);
        Assert.Equal(0, (await SendAsync(node.Http, HttpMethod.Get, "/api/v1/query/jobs", org: "other")).Body.GetProperty("jobs").GetArrayLength());
        Assert.Equal(1, (await SendAsync(node.Http, HttpMethod.Get, "/api/v1/query/jobs")).Body.GetProperty("jobs").GetArrayLength());
    }

    [Fact]
    public async Task A_query_over_the_threshold_becomes_a_job_unless_sync_is_preferred()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_QUERIER.AUTO_ASYNC_THRESHOLD_ROWS"] = "1000",
            ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
            ["MS_SEARCH_JOBS.IDLE_POLL_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        await IngestAsync(node.Http);
        await Poll.UntilAsync(() => NodeQueries.FilesAsync(node.WorkDir, "bench"), f => f.Sum(x => x.Rows) == 5_000, Deadline, "flushed");
        var (status, body) = await SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql = "SELECT level, count(*) FROM bench GROUP BY 1" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        await WaitStateAsync(node.Http, body.GetProperty("job_id").GetString()!, "done");
        (status, _) = await SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql = "SELECT level, count(*) FROM bench GROUP BY 1" }, "respond-sync");
        Assert.Equal(HttpStatusCode.OK, status);
        // A small query stays synchronous.
        (status, _) = await SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql = "SELECT 1" });
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_its_query_and_expired_jobs_are_cleaned_up()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_SEARCH_JOBS.IDLE_POLL_SECS"] = "1",
            ["MS_SEARCH_JOBS.LEASE_SECS"] = "2",
            ["MS_SEARCH_JOBS.CLEANUP_INTERVAL_SECS"] = "1",
            ["MS_SEARCH_JOBS.RETENTION_SECS"] = "4",
            ["MS_QUERIER.MAX_CONCURRENT"] = "1",
        });
        await node.WaitHealthyAsync();
        var slow = await SubmitAsync(node.Http, "SELECT sum(hash(range)) FROM range(100000000000)");
        await WaitStateAsync(node.Http, slow, "running");
        var (status, body) = await SendAsync(node.Http, HttpMethod.Delete, $"/api/v1/query/jobs/{slow}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("cancelled", body.GetProperty("state").GetString());
        // The query really stopped: its only slot is free again for a synchronous query.
        await Poll.UntilAsync(() => node.Http.GetStringAsync("/metrics"), m => m.Contains("\nquery_running 0"), Deadline, "the cancelled query stopped");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(node.Http, HttpMethod.Post, "/api/v1/query", new { sql = "SELECT 1" }, "respond-sync")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(node.Http, HttpMethod.Delete, $"/api/v1/query/jobs/{slow}")).Status);

        // Expiry: the job row and its result object go.
        var quick = await SubmitAsync(node.Http, "SELECT 42 AS answer");
        await WaitStateAsync(node.Http, quick, "done");
        var result = NodeQueries.ObjectPath(node.WorkDir, $"default/search_jobs/{quick}.ndjson");
        Assert.Equal("{\"answer\":42}", File.ReadAllText(result).Trim());
        await Poll.UntilAsync(async () => (await SendAsync(node.Http, HttpMethod.Get, $"/api/v1/query/jobs/{quick}")).Status,
            s => s == HttpStatusCode.NotFound, Deadline, "expired job deleted");
        Assert.False(File.Exists(result));
    }

    [Fact]
    public async Task Two_processes_sharing_postgres_run_each_of_50_jobs_exactly_once_and_take_over_a_dead_ones_job()
    {
        var db = await pg.CreateDatabaseAsync();
        using var shared = new TempDir("ms-jobs");
        Dictionary<string, string> Env() => new()
        {
            ["MS_STORE.META.BACKEND"] = "postgres",
            ["MS_STORE.META.DSN"] = pg.Dsn(db),
            ["MS_STORE.OBJECT.ROOT"] = shared.Combine("objects"),
            ["MS_SEARCH_JOBS.IDLE_POLL_SECS"] = "1",
            ["MS_SEARCH_JOBS.LEASE_SECS"] = "3",
        };
        using (var a = MoleSignalNode.Start(Env()))
        using (var b = MoleSignalNode.Start(Env()))
        {
            await a.WaitHealthyAsync();
            await b.WaitHealthyAsync();
            await using var meta = MoleSignal.Grains.Metadata.MetaStore.Postgres(pg.Dsn(db), 2);
            // Both nodes claim: three jobs that run until cancelled outnumber one node's two workers.
            var longJobs = new List<string>();
            for (var i = 0; i < 3; i++)
                longJobs.Add(await SubmitAsync(a.Http, "SELECT count(*) AS c FROM range(3000000000) WHERE range % 7 = 3"));
            await Poll.UntilAsync(() => meta.ScalarAsync("SELECT COUNT(*) FROM search_jobs WHERE state = 'running'"),
                n => Convert.ToInt64(n) == 3, TimeSpan.FromSeconds(60), "three long jobs running");
            Assert.Equal(2L, Convert.ToInt64(await meta.ScalarAsync(
                "SELECT COUNT(DISTINCT claimed_by) FROM search_jobs WHERE state = 'running'")));
            foreach (var id in longJobs)
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(b.Http, HttpMethod.Delete, $"/api/v1/query/jobs/{id}")).Status);

            var ids = new List<string>();
            for (var i = 0; i < 50; i++)
                ids.Add(await SubmitAsync(i % 2 == 0 ? a.Http : b.Http, $"SELECT {i} AS n FROM (SELECT count(*) FROM range(20000000)) AS t"));
            foreach (var id in ids)
            {
                var job = await WaitStateAsync(a.Http, id, "done");
                Assert.Equal(1, job.GetProperty("attempts").GetInt32()); // claimed once, by one worker
            }
            Assert.Equal(50L, Convert.ToInt64(await meta.ScalarAsync("SELECT COUNT(*) FROM search_jobs WHERE state = 'done' AND attempts = 1")));
            for (var i = 0; i < 50; i += 7)
                Assert.Equal($"{{\"n\":{i}}}", File.ReadAllText(Path.Combine(shared.Path, "objects", "default", "search_jobs", ids[i] + ".ndjson")).Trim());
        }

        // A process dies mid-job: after the lease the job runs again elsewhere and completes.
        string slowId;
        using (var a = MoleSignalNode.Start(Env()))
        {
            await a.WaitHealthyAsync();
            slowId = await SubmitAsync(a.Http, "SELECT count(*) AS c FROM range(3000000000) WHERE range % 7 = 3");
            await WaitStateAsync(a.Http, slowId, "running");
            a.Process.Kill();
        }
        using (var b = MoleSignalNode.Start(Env()))
        {
            await b.WaitHealthyAsync();
            var job = await Poll.UntilAsync(async () => (await SendAsync(b.Http, HttpMethod.Get, $"/api/v1/query/jobs/{slowId}")).Body,
                j => j.GetProperty("state").GetString() == "done", TimeSpan.FromSeconds(180), "the dead process's job completed");
            Assert.Equal(2, job.GetProperty("attempts").GetInt32());
            Assert.Equal("{\"c\":428571429}", File.ReadAllText(Path.Combine(shared.Path, "objects", "default", "search_jobs", slowId + ".ndjson")).Trim());
        }
    }
}
