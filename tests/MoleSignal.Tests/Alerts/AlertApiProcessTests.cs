using System.Net;
using System.Text.Json;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Alerts;

/// <summary>
/// The alert API of the binary: rules refused naming their field, kept to their org; the ledger of a rule whose
/// SQL fails on the data and of one slower than eval_timeout_secs; a backtest; an email through a real SMTP server.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AlertApiProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static object Rule(string sql, string? cron = null, string? timezone = null, string op = ">=",
        string[]? destinations = null, int period = 1) => new
    {
        name = "r", stream = "app", sql, frequency_secs = cron is null ? 1 : (int?)null, period_secs = period,
        cron, timezone, destinations = destinations ?? [],
        condition = new { column = "n", @operator = op, threshold = 1 },
    };

    private static async Task<string> RefusedAsync(HttpClient http, string path, object body, string? org = null)
    {
        var e = await AuthApi.SendAsync(http, HttpMethod.Post, path, body, org: org, expect: HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request", e.GetProperty("error").GetString());
        return e.GetProperty("message").GetString()!;
    }

    [Fact]
    public async Task Rules_and_destinations_are_refused_naming_the_field_and_stay_in_their_org()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var http = node.Http;
        Assert.StartsWith("sql:", await RefusedAsync(http, "/api/v1/alerts", Rule("SELECT count(*) AS n FROM other")));
        Assert.StartsWith("sql:", await RefusedAsync(http, "/api/v1/alerts",
            Rule("SELECT count(*) AS n FROM read_csv('/etc/passwd'), app")));
        Assert.StartsWith("sql:", await RefusedAsync(http, "/api/v1/alerts", Rule("SELEC nothing FROM app")));
        Assert.StartsWith("condition.operator:", await RefusedAsync(http, "/api/v1/alerts",
            Rule("SELECT count(*) AS n FROM app", op: "=>")));
        Assert.StartsWith("cron:", await RefusedAsync(http, "/api/v1/alerts",
            Rule("SELECT count(*) AS n FROM app", cron: "61 * * * *")));
        Assert.StartsWith("timezone:", await RefusedAsync(http, "/api/v1/alerts",
            Rule("SELECT count(*) AS n FROM app", cron: "0 9 * * *", timezone: "Mars/Olympus")));
        Assert.StartsWith("destinations:", await RefusedAsync(http, "/api/v1/alerts",
            Rule("SELECT count(*) AS n FROM app", destinations: ["nope"])));
        Assert.StartsWith("webhook.headers:", await RefusedAsync(http, "/api/v1/destinations", new
        {
            name = "leak", kind = "webhook",
            webhook = new
            {
                url = "http://127.0.0.1:9/x", headers = new Dictionary<string, string> { ["X"] = "env:HOME" },
            },
        }));
        Assert.StartsWith("webhook.url:", await RefusedAsync(http, "/api/v1/destinations",
            new { name = "bad", kind = "webhook", webhook = new { url = "file:///etc/passwd" } }));

        var id = (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/alerts",
            Rule("SELECT count(*) AS n FROM app", cron: "0 9 * * *", timezone: "Europe/Berlin"),
            expect: HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var saved = await AuthApi.SendAsync(http, HttpMethod.Get, $"/api/v1/alerts/{id}");
        Assert.Equal("Europe/Berlin", saved.GetProperty("timezone").GetString());
        Assert.Equal(">=", saved.GetProperty("condition").GetProperty("operator").GetString());
        await AuthApi.CreateOrgAsync(http, "other");
        var theirs = await AuthApi.SendAsync(http, HttpMethod.Get, "/api/v1/alerts", org: "other");
        Assert.Empty(theirs.GetProperty("alerts").EnumerateArray());
        await AuthApi.SendAsync(http, HttpMethod.Get, $"/api/v1/alerts/{id}", org: "other",
            expect: HttpStatusCode.NotFound);
        await AuthApi.SendAsync(http, HttpMethod.Delete, $"/api/v1/alerts/{id}", org: "other",
            expect: HttpStatusCode.NotFound);
        await AuthApi.SendAsync(http, HttpMethod.Delete, $"/api/v1/alerts/{id}");
        await AuthApi.SendAsync(http, HttpMethod.Get, $"/api/v1/alerts/{id}", expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Failing_and_slow_rules_keep_errors_in_the_ledger_a_backtest_replays_windows_and_email_is_sent()
    {
        using var smtp = new SmtpReceiver();
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_ALERT_MANAGER.EVAL_INTERVAL_SECS"] = "1", ["MS_ALERT_MANAGER.EVAL_TIMEOUT_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        var http = node.Http;
        // Ten minutes of records an hour ago, errors of service api in minutes 3 and 4 only.
        var t0 = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 - 60) * 60_000_000;
        var lines = Enumerable.Range(0, 300).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["_timestamp"] = t0 + i * 2_000_000L, ["service"] = i % 2 == 0 ? "api" : "db",
            ["level"] = i is >= 90 and < 150 && i % 2 == 0 ? "error" : "info", ["message"] = $"record {i}",
        })).ToList();
        await NodeQueries.IngestAsync(http, "app", lines, 300);

        async Task<string> Create(object rule) => (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/alerts",
            rule, expect: HttpStatusCode.Created)).GetProperty("id").GetString()!;
        // Windows of two hours, so that both read the records.
        var broken = await Create(Rule("SELECT max(CAST(message AS INTEGER)) AS n FROM app", period: 7200));
        var slow = await Create(Rule("SELECT count(*) AS n FROM app a, app b, app c, app d, app e", period: 7200));
        var byService = await Create(new
        {
            name = "errors", stream = "app", enabled = false, frequency_secs = 60,
            sql = "SELECT service, count(*) AS n FROM app WHERE level = 'error' GROUP BY service",
            group_by = new[] { "service" }, condition = new { column = "n", @operator = ">=", threshold = 1 },
        });

        async Task<JsonElement> FirstEvaluation(string rule) => await Poll.UntilAsync(
            async () => (await AuthApi.SendAsync(http, HttpMethod.Get, $"/api/v1/alerts/{rule}/history"))
                .GetProperty("evaluations"), e => e.GetArrayLength() > 0, Deadline, $"an evaluation of {rule}");
        var window = await FirstEvaluation(broken);
        Assert.Contains("record", window[0].GetProperty("error").GetString());
        Assert.False(window[0].GetProperty("fired").GetBoolean());
        window = await FirstEvaluation(slow);
        var timedOut = window[0].GetProperty("error").GetString() ?? "";
        Assert.True(timedOut.Contains("eval_timeout_secs"), timedOut);
        Assert.True(await NodeMetrics.ValueAsync(http, "alert_rule_eval_timeout_total") >= 1);
        Assert.True(await NodeMetrics.ValueAsync(http, "alert_rule_eval_errors_total") >= 2);
        var incidents = await AuthApi.SendAsync(http, HttpMethod.Get, "/api/v1/incidents");
        Assert.Empty(incidents.GetProperty("incidents").EnumerateArray()); // an error window opens nothing

        var test = await AuthApi.SendAsync(http, HttpMethod.Post, $"/api/v1/alerts/{byService}/test",
            new { start = t0, end = t0 + 10 * 60_000_000L });
        var windows = test.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(10, windows.Count);
        var firing = windows.Where(w => w.GetProperty("fires").GetBoolean())
            .Select(w => (w.GetProperty("window_start").GetInt64() - t0) / 60_000_000).ToList();
        Assert.Equal([3L, 4L], firing);
        Assert.Equal("[\"api\"]", windows[3].GetProperty("groups")[0].GetProperty("key").GetString());
        Assert.Equal(15, windows[3].GetProperty("groups")[0].GetProperty("value").GetDouble()); // even i of 90..119

        var mail = (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/destinations", new
        {
            name = "ops mail", kind = "email",
            email = new
            {
                host = "127.0.0.1", port = smtp.Port, from = "alerts@molesignal.test", to = new[] { "ops@x.test" },
            },
        }, expect: HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await AuthApi.SendAsync(http, HttpMethod.Post, $"/api/v1/destinations/{mail}/test");
        var message = Assert.Single(smtp.Messages);
        Assert.StartsWith("[TEST]", message.Subject);
        Assert.Equal("ops@x.test", message.To.Mailboxes.Single().Address);
        Assert.EndsWith("@molesignal", message.MessageId);
    }
}
