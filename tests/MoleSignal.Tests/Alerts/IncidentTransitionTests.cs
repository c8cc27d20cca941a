using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Alerts;
using MoleSignal.Grains.Metadata;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Alerts;

/// <summary>What evaluated windows do to incidents and the outbox, on a migrated SQLite store: one notification
/// per opening, silence after a group's notification, reminders of open incidents, none of acknowledged ones.
/// </summary>
public sealed class IncidentTransitionTests : IAsyncLifetime
{
    private const long Sec = 1_000_000;
    private readonly TempDir _dir = new("ms-incidents");
    private MetaStore _store = null!;

    private static readonly AlertRule Rule = new("rule-1", "default", 1, 0, new AlertRuleSpec("errors", "logs",
        "app", "SELECT 1 FROM app", 60, 60, null, "UTC", 0, new AlertCondition("n", CompareOp.GreaterOrEqual, 1, null),
        ["service"], SilenceSecs: 10, ResolveAfterWindows: 1, ["d1", "d2"], true, new Dictionary<string, string>()));

    public async Task InitializeAsync()
    {
        _store = MetaStore.Sqlite(_dir.Combine("meta.db"));
        await MigrationRunner.ApplyAsync(_store);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private static GroupValue Fires(string service) => new($"[\"{service}\"]", 5, Severity.Critical);

    /// <summary>Applies one window at <paramref name="at"/> seconds; returns the notifications it wrote.</summary>
    private async Task<int> WindowAsync(long at, params GroupValue[] groups)
    {
        await using var conn = await _store.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var n = await IncidentTransitions.ApplyAsync(conn, tx, Rule, (at - 60) * Sec, at * Sec, groups, at * Sec,
            CancellationToken.None);
        await tx.CommitAsync();
        return n;
    }

    private Task<List<string>> OutboxAsync() => _store.ReadAsync(
        "SELECT event || ':' || destination_id FROM alert_outbox ORDER BY created_at_micros, destination_id",
        r => r.GetString(0));

    [Fact]
    public async Task A_group_is_notified_on_opening_reminded_after_its_silence_and_not_while_acknowledged()
    {
        Assert.Equal(2, await WindowAsync(100, Fires("api"))); // opens: one per destination
        Assert.Equal(0, await WindowAsync(105, Fires("api"))); // open, within the silence
        Assert.Equal(2, await WindowAsync(111, Fires("api"))); // still firing after it: a reminder
        Assert.Equal(2, await WindowAsync(112)); // quiet for resolve_after_windows (1): resolved
        // A new incident of the group within its silence opens without a notification; another group's is notified.
        Assert.Equal(2, await WindowAsync(115, Fires("api"), Fires("db")));
        var incidents = new IncidentStore(_store, null!, TimeProvider.System);
        var open = await incidents.ListAsync("default", IncidentState.Open, 10, CancellationToken.None);
        Assert.Equal(2, open.Count);
        var api = open.Single(i => i.GroupKey == "[\"api\"]");
        await incidents.AcknowledgeAsync("default", api.Id, "ops@x", CancellationToken.None);
        // Past the silence: the acknowledged incident is not reminded, the open one is.
        Assert.Equal(2, await WindowAsync(130, Fires("api"), Fires("db")));
        Assert.Equal(
        [
            "firing:d1", "firing:d2", "firing:d1", "firing:d2", "resolved:d1", "resolved:d2", "firing:d1",
            "firing:d2", "firing:d1", "firing:d2",
        ], await OutboxAsync());
        var payloads = await _store.ReadAsync("SELECT payload FROM alert_outbox ORDER BY created_at_micros",
            r => System.Text.Json.JsonDocument.Parse(r.GetString(0)).RootElement.Clone());
        Assert.Equal("db", payloads[^1].GetProperty("group").GetProperty("service").GetString());
        var acked = await incidents.GetAsync("default", api.Id, CancellationToken.None);
        Assert.Equal(("ops@x", IncidentState.Acknowledged), (acked!.AckedBy, acked.State));
    }
}
