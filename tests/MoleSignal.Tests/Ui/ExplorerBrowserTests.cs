using System.Text.Json;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Ui;

/// <summary>
/// The web UI in Debian's chromium, driven by Playwright (ui/e2e/explorer.mjs) against a real node with records of
/// the last hour: sign in, run the stream's query (histogram and rows), add a filter from a field's top values,
/// zoom by dragging the histogram, open a row's JSON, see a record ingested after the live tail opened, and an
/// axe-core scan with no serious violation; a token created on the Admin page answers curl, and a viewer has no
/// Admin page. Screenshots
/// of every step go to TestResults/ui/.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ExplorerBrowserTests
{
    private static readonly string[] Levels = ["INFO", "INFO", "WARN", "ERROR", "DEBUG"];

    [Fact]
    public async Task The_ui_signs_in_queries_filters_zooms_opens_a_row_tails_and_makes_a_token()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var records = Enumerable.Range(0, 3000).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["_timestamp"] = now - i * 1_000_000L, ["level"] = Levels[i % Levels.Length],
            ["service"] = $"svc-{i % 7}", ["message"] = $"request {i} answered in {i % 97} ms",
        })).ToList();
        await NodeQueries.IngestAsync(node.Http, "app", records, 1000);
        await AuthApi.AddMemberAsync(node.Http, "default", "viewer@ui.test", "viewer", "viewer-ui-password");

        var ui = NpmPackages.UiDir();
        var shots = Path.Combine(Path.GetDirectoryName(ui)!, "TestResults", "ui");
        using var run = new ChildProcess("node", [Path.Combine(ui, "e2e", "explorer.mjs"),
            $"http://127.0.0.1:{node.HttpPort}", MoleSignalNode.RootEmail, MoleSignalNode.RootPassword, shots,
            "viewer@ui.test", "viewer-ui-password"], ui);
        var code = await run.WaitForExitAsync(TimeSpan.FromMinutes(3));
        var checks = run.Output.Split('\n').Where(l => l.StartsWith("{\"check\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(c => c.GetProperty("check").GetString()!);
        foreach (var name in new[]
                 {
                     "login", "query_shows_histogram_and_rows", "field_value_adds_a_filter", "histogram_drag_zooms",
                     "row_expands_to_json", "live_tail_shows_a_new_record", "accessibility",
                     "token_created_in_the_ui_works_with_curl", "viewer_sees_no_admin_page",
                 })
        {
            Assert.True(checks.TryGetValue(name, out var check), $"{name} did not run: {run.Output}");
            Assert.True(check.GetProperty("ok").GetBoolean(), $"{name}: {check.GetProperty("detail")}");
        }
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(shots, "row_expands_to_json.png")));
    }
}
