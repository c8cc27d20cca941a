using System.Net;
using System.Text.Json;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Alerts;

/// <summary>
/// The binary's alert manager against a real HTTP receiver: a rule over ingested data notifies once per group,
/// retries a refusing receiver with the same key, resolves when the data stops; a kill -9 during a delivery
/// sends that notification again with the same key and nothing else twice.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AlertProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static Dictionary<string, string> Env() => new()
    {
        ["MS_ALERT_MANAGER.EVAL_INTERVAL_SECS"] = "1",
        ["MS_ALERT_MANAGER.DISPATCH_INTERVAL_SECS"] = "1",
        ["MS_ALERT_MANAGER.RETRY_BASE_SECS"] = "1",
        ["MS_ALERT_MANAGER.LEASE_SECS"] = "3",
    };

    private static async Task<string> DestinationAsync(HttpClient http, WebhookReceiver receiver)
    {
        var d = await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/destinations",
            new { name = "receiver", kind = "webhook", webhook = new { url = receiver.Url } },
            expect: HttpStatusCode.Created);
        return d.GetProperty("id").GetString()!;
    }

    private static async Task<string> RuleAsync(HttpClient http, string destination, int resolveAfter = 2) =>
        (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/alerts", new
        {
            name = "errors by service", stream = "app",
            sql = "SELECT service, count(*) AS n FROM app WHERE level = 'error' GROUP BY service",
            frequency_secs = 2, period_secs = 4, delay_secs = 1,
            condition = new { column = "n", @operator = ">=", threshold = 1 },
            group_by = new[] { "service" }, resolve_after_windows = resolveAfter,
            destinations = new[] { destination }, labels = new Dictionary<string, string> { ["team"] = "core" },
        }, expect: HttpStatusCode.Created)).GetProperty("id").GetString()!;

    /// <summary>Error records of each service stamped now, every half second until <paramref name="stop"/>.
    /// </summary>
    private static async Task FeedAsync(HttpClient http, string[] services, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            var lines = services.Select(s => JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["_timestamp"] = now, ["level"] = "error", ["service"] = s, ["message"] = "boom",
            })).ToList();
            await NodeQueries.IngestAsync(http, "app", lines, lines.Count);
            try
            {
                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static (string Event, string Service) Read(WebhookReceiver.Hit h)
    {
        var doc = JsonDocument.Parse(h.Body).RootElement;
        return (doc.GetProperty("event").GetString()!,
            doc.GetProperty("group").GetProperty("service").GetString()!);
    }

    [Fact]
    public async Task A_rule_notifies_once_per_group_retries_a_refusing_receiver_and_resolves_when_data_stops()
    {
        using var receiver = new WebhookReceiver(failFirst: 3);
        using var node = MoleSignalNode.Start(Env());
        await node.WaitHealthyAsync();
        var rule = await RuleAsync(node.Http, await DestinationAsync(node.Http, receiver));
        using var stop = new CancellationTokenSource();
        var feed = FeedAsync(node.Http, ["api", "db"], stop.Token);
        await Poll.UntilAsync(() => receiver.Delivered.Count(h => Read(h).Event == "firing") >= 2, Deadline,
            "a delivered firing notification for each service");
        await stop.CancelAsync();
        await feed;
        await Poll.UntilAsync(() => receiver.Delivered.Count(h => Read(h).Event == "resolved") >= 2, Deadline,
            "a delivered resolved notification for each service");

        var delivered = receiver.Delivered.Select(Read).OrderBy(x => x).ToList();
        Assert.Equal([("firing", "api"), ("firing", "db"), ("resolved", "api"), ("resolved", "db")], delivered);
        // The three refused attempts were retried with the key (and body) of their notification.
        var hits = receiver.Hits.ToList();
        Assert.Equal(3, hits.Count(h => h.Status == 500));
        Assert.All(hits, h => Assert.False(string.IsNullOrEmpty(h.Key)));
        Assert.Equal(4, hits.Select(h => h.Key).Distinct().Count());
        foreach (var refused in hits.Where(h => h.Status == 500))
            Assert.Contains(receiver.Delivered, d => d.Key == refused.Key && d.Body == refused.Body);

        var incidents = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/incidents");
        var list = incidents.GetProperty("incidents").EnumerateArray().ToList();
        Assert.Equal(2, list.Count);
        Assert.All(list, i => Assert.Equal("resolved", i.GetProperty("state").GetString()));
        Assert.All(list, i => Assert.Equal("system", i.GetProperty("resolved_by").GetString()));
        var history = await AuthApi.SendAsync(node.Http, HttpMethod.Get, $"/api/v1/alerts/{rule}/history");
        var evaluations = history.GetProperty("evaluations").EnumerateArray().ToList();
        Assert.Contains(evaluations, e => e.GetProperty("fired").GetBoolean());
        Assert.Contains(evaluations, e => !e.GetProperty("fired").GetBoolean());
        Assert.All(evaluations, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("error").ValueKind));
    }

    [Fact]
    public async Task A_kill_during_a_delivery_sends_it_again_with_the_same_key_and_nothing_twice()
    {
        using var receiver = new WebhookReceiver();
        using var dir = new TempDir("ms-alert-kill");
        var env = Env();
        receiver.HoldNext();
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            await RuleAsync(node.Http, await DestinationAsync(node.Http, receiver), resolveAfter: 1000);
            using var stop = new CancellationTokenSource();
            var feed = FeedAsync(node.Http, ["api"], stop.Token);
            await Poll.UntilAsync(() => receiver.Held == 1, Deadline, "the first delivery reaching the receiver");
            await stop.CancelAsync();
            await feed;
            node.Process.Kill(); // mid-delivery: the request is sent, its answer never recorded
        }
        receiver.Release();
        using (var node = MoleSignalNode.Start(env, workDir: dir.Path))
        {
            await node.WaitHealthyAsync();
            await Poll.UntilAsync(() => receiver.Delivered.Count >= 1, Deadline, "the delivery after the restart");
            var incidents = await AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/incidents");
            var only = Assert.Single(incidents.GetProperty("incidents").EnumerateArray().ToList());
            var incidentId = only.GetProperty("id").GetString()!;
            await Poll.UntilAsync(async () => (await AuthApi.SendAsync(node.Http, HttpMethod.Get,
                    $"/api/v1/incidents/{incidentId}")).GetProperty("notifications")[0].GetProperty("state")
                .GetString(), s => s == "delivered", Deadline, "the notification recorded as delivered");
        }
        var hits = receiver.Hits.ToList();
        Assert.Equal(2, hits.Count); // the held attempt and the one after the restart
        Assert.Single(hits.Select(h => h.Key).Distinct());
        Assert.Equal(hits[0].Body, hits[1].Body);
        Assert.Equal("firing", Read(hits[1]).Event);
    }
}
