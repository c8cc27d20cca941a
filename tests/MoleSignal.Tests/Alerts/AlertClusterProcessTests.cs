using System.Text.Json;
using MoleSignal.Grains.Metadata;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Alerts;

/// <summary>
/// Two alert_manager processes on one Postgres beside a node that ingests: every window of a rule is evaluated
/// exactly once between them, and after one is killed with -9 the other evaluates the rule's windows on, catching
/// up the ones the dead node held, without a gap.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AlertClusterProcessTests(PostgresServer pg, S3Server s3)
    : IClassFixture<PostgresServer>, IClassFixture<S3Server>
{
    private sealed record Window(long End, string By);

    [Fact]
    public async Task Two_alert_managers_evaluate_each_window_once_and_a_killed_ones_rules_move_to_the_other()
    {
        var db = await pg.CreateDatabaseAsync();
        var prefix = "a" + Guid.NewGuid().ToString("N")[..8];
        var dirs = new List<TempDir>();
        var nodes = new List<MoleSignalNode>();
        MoleSignalNode Start(string id, string roles)
        {
            var env = MoleSignalNode.ClusterEnv(id, roles, pg.Dsn(db));
            env["MS_STORE.OBJECT.BACKEND"] = "s3";
            env["MS_STORE.OBJECT.S3.BUCKET"] = S3Server.Bucket;
            env["MS_STORE.OBJECT.S3.ENDPOINT"] = s3.Endpoint;
            env["MS_STORE.OBJECT.S3.PREFIX"] = prefix;
            env["AWS_ACCESS_KEY_ID"] = "S3RVER";
            env["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
            env["MS_ALERT_MANAGER.EVAL_INTERVAL_SECS"] = "1";
            env["MS_ALERT_MANAGER.LEASE_SECS"] = "3";
            var dir = new TempDir("ms-" + id);
            dirs.Add(dir);
            var node = MoleSignalNode.Start(env, workDir: dir.Path);
            nodes.Add(node);
            return node;
        }
        await using var meta = MetaStore.Postgres(pg.Dsn(db), 2);
        Task<List<Window>> Windows() => meta.ReadAsync(
            "SELECT window_end_micros, evaluated_by FROM alert_evaluations ORDER BY window_end_micros, evaluated_by",
            r => new Window(r.GetInt64(0), r.GetString(1)));
        try
        {
            var main = Start("main", "router,ingester,querier");
            await main.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            await NodeQueries.IngestAsync(main.Http, "app", [JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["_timestamp"] = now, ["level"] = "info", ["message"] = "the stream exists",
            })], 1);
            await AuthApi.SendAsync(main.Http, HttpMethod.Post, "/api/v1/alerts", new
            {
                name = "heartbeat", stream = "app", sql = "SELECT _timestamp FROM app", frequency_secs = 1,
                condition = new { @operator = ">=", threshold = 0 },
            }, expect: System.Net.HttpStatusCode.Created);
            var managers = new[] { Start("am-1", "alert_manager"), Start("am-2", "alert_manager") };
            foreach (var m in managers) await m.WaitHealthyAsync(TimeSpan.FromSeconds(120));
            await Poll.UntilAsync(Windows, w => w.Count >= 8, TimeSpan.FromSeconds(90), "eight windows evaluated");

            // Whoever evaluated last holds the rule most often: that one is killed.
            var last = (await Windows())[^1].By;
            var victim = managers[last == "am-1" ? 0 : 1];
            var survivor = last == "am-1" ? "am-2" : "am-1";
            victim.Process.Kill();
            var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            await Poll.UntilAsync(Windows, w => w.Count(x => x.End > killedAt && x.By == survivor) >= 5,
                TimeSpan.FromSeconds(90), $"{survivor} evaluating windows after the kill");

            var windows = await Windows();
            Assert.Equal(windows.Count, windows.Select(w => w.End).Distinct().Count()); // each window once
            for (var i = 1; i < windows.Count; i++) // and none skipped: ends one second apart
                Assert.Equal(1_000_000, windows[i].End - windows[i - 1].End);
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
            foreach (var d in dirs) d.Dispose();
        }
    }
}
