using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Alerts;

namespace MoleSignal.Tests.Alerts;

/// <summary>Where rule windows end: aligned to the epoch, or at cron occurrences in the rule's zone across DST.
/// </summary>
public sealed class AlertWindowsTests
{
    private static AlertRuleSpec Rule(int? frequency, string? cron = null, string zone = "UTC", int period = 60) =>
        new("r", "logs", "app", "SELECT 1 FROM app", period, frequency, cron, zone, 0,
            new AlertCondition(null, CompareOp.Greater, 0, null), [], 0, 1, [], true,
            new Dictionary<string, string>());

    private static long Micros(DateTimeOffset t) => t.ToUnixTimeMilliseconds() * 1000;

    [Fact]
    public void Frequency_windows_end_on_multiples_of_the_frequency_whatever_the_start()
    {
        var w = new AlertWindows(Rule(300));
        var at = Micros(new DateTimeOffset(2026, 12, 4, 10, 7, 13, TimeSpan.Zero));
        Assert.Equal(Micros(new DateTimeOffset(2026, 12, 4, 10, 10, 0, TimeSpan.Zero)), w.NextEnd(at));
        var end = w.NextEnd(at);
        Assert.Equal(end + 300_000_000, w.NextEnd(end)); // strictly after an end
        Assert.Equal(60_000_000, w.Period);
    }

    [Fact]
    public void A_nine_oclock_Berlin_rule_runs_at_nine_local_across_both_DST_transitions()
    {
        var w = new AlertWindows(Rule(null, "0 9 * * *", "Europe/Berlin"));
        // 2026: summer time starts 29 March (UTC+1 → UTC+2) and ends 25 October (UTC+2 → UTC+1).
        var ends = new List<DateTimeOffset>();
        var at = Micros(new DateTimeOffset(2026, 3, 27, 12, 0, 0, TimeSpan.Zero));
        for (var i = 0; i < 4; i++) ends.Add(DateTimeOffset.FromUnixTimeMilliseconds((at = w.NextEnd(at)) / 1000));
        Assert.Equal([new(2026, 3, 28, 8, 0, 0, TimeSpan.Zero), new(2026, 3, 29, 7, 0, 0, TimeSpan.Zero),
            new(2026, 3, 30, 7, 0, 0, TimeSpan.Zero), new(2026, 3, 31, 7, 0, 0, TimeSpan.Zero)], ends);
        ends.Clear();
        at = Micros(new DateTimeOffset(2026, 10, 23, 12, 0, 0, TimeSpan.Zero));
        for (var i = 0; i < 3; i++) ends.Add(DateTimeOffset.FromUnixTimeMilliseconds((at = w.NextEnd(at)) / 1000));
        Assert.Equal([new(2026, 10, 24, 7, 0, 0, TimeSpan.Zero), new(2026, 10, 25, 8, 0, 0, TimeSpan.Zero),
            new(2026, 10, 26, 8, 0, 0, TimeSpan.Zero)], ends);
    }

    [Fact]
    public void A_local_time_skipped_by_DST_runs_once_at_the_jump_and_a_repeated_one_runs_once()
    {
        // 02:30 does not exist in Berlin on 29 March 2026 and occurs twice on 25 October 2026.
        var w = new AlertWindows(Rule(null, "30 2 * * *", "Europe/Berlin"));
        var spring = w.NextEnd(Micros(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(Micros(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero)), spring); // 03:00 CEST
        var autumn = w.NextEnd(Micros(new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(Micros(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero)), autumn); // 02:30 CEST
        Assert.Equal(Micros(new DateTimeOffset(2026, 10, 26, 1, 30, 0, TimeSpan.Zero)), w.NextEnd(autumn));
    }

    [Fact]
    public void A_template_takes_the_notifications_fields_and_the_presets_their_shapes()
    {
        var payload =
            """{"event":"firing","rule_name":"errors","value":7,"group":{"service":"api"},"condition":"n >= 1"}""";
        var hook = new WebhookSpec("http://x", "POST", new Dictionary<string, string>(),
            "{{rule_name}} is {{ event }} at {{value}}{{missing}}", null);
        Assert.Equal("errors is firing at 7", NotificationText.Body(hook, payload));
        var slack = NotificationText.Body(hook with { BodyTemplate = null, Preset = "slack" }, payload);
        Assert.Equal("[FIRING] errors {\"service\":\"api\"}: n >= 1 (value 7)",
            System.Text.Json.JsonDocument.Parse(slack).RootElement.GetProperty("text").GetString());
        Assert.Equal(payload, NotificationText.Body(hook with { BodyTemplate = null }, payload));
    }
}
