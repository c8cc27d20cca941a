using System.Net;
using System.Text.Json;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Ui;

/// <summary>
/// The web UI in Debian's chromium, driven by Playwright (ui/e2e/explorer.mjs) against a real node with records of
/// the last hour and an alert rule that fires on them: sign in, run the stream's query (histogram and rows), add a
/// filter from a field's top values, zoom by dragging the histogram, type an absolute range, open a row's JSON,
/// hand a long query to a search job, see a record ingested after the live tail opened, the stream's schema
/// history, acknowledge and resolve an incident, an axe-core scan of every page with no serious violation; a token
/// created on the Admin page answers curl, a member is added, re-roled and removed, the session outlives its first
/// 30 s token, and a viewer has no Admin page. Screenshots of every step go to TestResults/ui/.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ExplorerBrowserTests
{
    private static readonly string[] Levels = ["INFO", "INFO", "WARN", "ERROR", "DEBUG"];

    [Fact]
    public async Task The_ui_explores_tails_shows_schemas_handles_incidents_and_administers_the_org()
    {
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_AUTH.JWT_TTL_SECS"] = "30", ["MS_INGESTER.FLUSH_INTERVAL_SECS"] = "1",
            ["MS_ALERT_MANAGER.EVAL_INTERVAL_SECS"] = "1",
        });
        await node.WaitHealthyAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var records = Enumerable.Range(0, 3000).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["_timestamp"] = now - i * 1_000_000L, ["level"] = Levels[i % Levels.Length],
            ["service"] = $"svc-{i % 7}", ["message"] = $"request {i} answered in {i % 97} ms",
        })).ToList();
        await NodeQueries.IngestAsync(node.Http, "app", records, 1000);
        await AuthApi.AddMemberAsync(node.Http, "default", "viewer@ui.test", "viewer", "viewer-ui-password");
        await AuthApi.SendAsync(node.Http, HttpMethod.Post, "/api/v1/alerts", new
        {
            name = "errors present", stream = "app", sql = "SELECT count(*) AS n FROM app WHERE level = 'ERROR'",
            frequency_secs = 2, period_secs = 3600, delay_secs = 0, resolve_after_windows = 1000,
            condition = new { column = "n", @operator = ">=", threshold = 1 },
        }, expect: HttpStatusCode.Created);
        await Poll.UntilAsync(() => AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/streams/app/schema/history"),
            h => h.GetProperty("versions").GetArrayLength() > 0, TimeSpan.FromSeconds(60), "the schema stored");
        await Poll.UntilAsync(() => AuthApi.SendAsync(node.Http, HttpMethod.Get, "/api/v1/incidents?state=open"),
            i => i.GetProperty("incidents").GetArrayLength() > 0, TimeSpan.FromSeconds(60), "the rule fired");

        var ui = NpmPackages.UiDir();
        var shots = Path.Combine(Path.GetDirectoryName(ui)!, "TestResults", "ui");
        using var run = new ChildProcess("node", [Path.Combine(ui, "e2e", "explorer.mjs"),
            $"http://127.0.0.1:{node.HttpPort}", MoleSignalNode.RootEmail, MoleSignalNode.RootPassword, shots,
            "viewer@ui.test", "viewer-ui-password"], ui);
        var code = await run.WaitForExitAsync(TimeSpan.FromMinutes(5));
        var checks = run.Output.Split('\n').Where(l => l.StartsWith("{\"check\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(c => c.GetProperty("check").GetString()!);
        foreach (var name in new[]
                 {
                     "login", "query_shows_histogram_and_rows", "field_value_adds_a_filter", "histogram_drag_zooms",
                     "absolute_range_applies", "row_expands_to_json", "long_query_offered_as_search_job",
                     "live_tail_shows_a_new_record", "schema_history_shows_versions",
                     "alert_incident_acknowledged_and_resolved", "accessibility",
                     "token_created_in_the_ui_works_with_curl", "member_added_role_changed_and_removed",
                     "session_outlives_its_first_token", "viewer_sees_no_admin_page",
                 })
        {
            Assert.True(checks.TryGetValue(name, out var check), $"{name} did not run: {run.Output}");
            Assert.True(check.GetProperty("ok").GetBoolean(), $"{name}: {check.GetProperty("detail")}");
        }
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(shots, "row_expands_to_json.png")));
    }
}
