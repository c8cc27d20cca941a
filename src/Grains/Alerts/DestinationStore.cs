using System.Data.Common;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;
using static MoleSignal.Grains.Alerts.RuleValidation;

namespace MoleSignal.Grains.Alerts;

/// <summary>The <c>alert_destinations</c> table: where notifications go, validated on save and bounded per org.
/// </summary>
public sealed class DestinationStore(MetaStore store, NotificationSender sender, LiveSettings<AlertSettings> settings,
    TimeProvider clock) : IAlertDestinations
{
    public const int MaxHeaders = 32, MaxTemplateBytes = 16 * 1024, MaxRecipients = 50;

    /// <summary>The environment variables a destination may name: an org admin must not be able to send the
    /// server's own settings to a URL of theirs.</summary>
    public const string AllowedEnvPrefix = SecretReferences.EnvPrefix + "MS_ALERT_";

    private static bool IsAllowedReference(string v) =>
        !v.StartsWith(SecretReferences.EnvPrefix, StringComparison.Ordinal)
        || v.StartsWith(AllowedEnvPrefix, StringComparison.Ordinal);

    public async Task<Destination> CreateAsync(string org, DestinationSpec spec, CancellationToken ct)
    {
        Check(spec);
        var count = Convert.ToInt64(await store.ScalarAsync(
            "SELECT count(*) FROM alert_destinations WHERE org = @o", ct, ("o", org)));
        if (count >= settings.Current.MaxDestinationsPerOrg)
            throw new AuthException(AuthErrorKind.LimitReached,
                $"this org has {count} alert destinations, the most it may have");
        var d = new Destination(Guid.NewGuid().ToString("N"), org, Clock.NowMicros(clock), spec);
        await store.ExecuteAsync("INSERT INTO alert_destinations (org, id, name, kind, spec, updated_at_micros) " +
            "VALUES (@o, @id, @name, @kind, @spec, @at)", ct, Args(d));
        return d;
    }

    public async Task<Destination> UpdateAsync(string org, string id, DestinationSpec spec, CancellationToken ct)
    {
        Check(spec);
        var d = new Destination(id, org, Clock.NowMicros(clock), spec);
        var n = await store.ExecuteAsync("UPDATE alert_destinations SET name = @name, kind = @kind, spec = @spec, " +
            "updated_at_micros = @at WHERE org = @o AND id = @id", ct, Args(d));
        return n == 1 ? d : throw NotFound(id);
    }

    public async Task<Destination?> GetAsync(string org, string id, CancellationToken ct) =>
        (await store.ReadAsync("SELECT id, org, updated_at_micros, spec FROM alert_destinations " +
            "WHERE org = @o AND id = @id", Map, ct, ("o", org), ("id", id))).FirstOrDefault();

    public async Task<IReadOnlyList<Destination>> ListAsync(string org, CancellationToken ct) =>
        await store.ReadAsync("SELECT id, org, updated_at_micros, spec FROM alert_destinations WHERE org = @o " +
            "ORDER BY name, id", Map, ct, ("o", org));

    public async Task<bool> DeleteAsync(string org, string id, CancellationToken ct) =>
        await store.ExecuteAsync("DELETE FROM alert_destinations WHERE org = @o AND id = @id", ct, ("o", org),
            ("id", id)) == 1;

    /// <summary>Refuses (naming <c>destinations</c>) ids that are not destinations of the org.</summary>
    public static async Task RequireExistAsync(MetaStore store, string org, IEnumerable<string> ids,
        CancellationToken ct)
    {
        foreach (var d in ids)
            if (await store.ScalarAsync("SELECT id FROM alert_destinations WHERE org = @o AND id = @id", ct,
                    ("o", org), ("id", d)) is null)
                throw Invalid("destinations", $"no destination '{d}' in this org");
    }

    public async Task<string?> TestAsync(string org, string id, CancellationToken ct)
    {
        var d = await GetAsync(org, id, ct) ?? throw NotFound(id);
        var payload = new Dictionary<string, object?>
        {
            ["event"] = "test", ["org"] = org, ["rule_name"] = "test message", ["destination"] = d.Spec.Name,
        };
        return await sender.SendAsync(d, AlertJson.Write(payload), "test-" + Guid.NewGuid().ToString("N"), ct);
    }

    private static void Check(DestinationSpec s)
    {
        Require(!string.IsNullOrWhiteSpace(s.Name) && s.Name.Length <= 256, "name", "must be 1 to 256 characters");
        if (s.Kind == DestinationKind.Webhook)
        {
            var w = s.Webhook ?? throw Invalid("webhook", "is required for a webhook destination");
            Require(Uri.TryCreate(w.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https",
                "webhook.url", "must be an absolute http or https URL");
            Require(w.Method is "POST" or "PUT" or "PATCH" or "GET", "webhook.method",
                "must be POST, PUT, PATCH or GET");
            Require(w.Headers.Count <= MaxHeaders, "webhook.headers", $"holds at most {MaxHeaders}");
            Require(w.Headers.Values.All(IsAllowedReference), "webhook.headers",
                $"environment references must name {AllowedEnvPrefix}* variables");
            Require((w.BodyTemplate?.Length ?? 0) <= MaxTemplateBytes, "webhook.body_template",
                $"is at most {MaxTemplateBytes} characters");
            Require(w.Preset is null or "slack" or "teams", "webhook.preset", "must be slack or teams");
        }
        else
        {
            var e = s.Email ?? throw Invalid("email", "is required for an email destination");
            Require(!string.IsNullOrWhiteSpace(e.Host), "email.host", "is required");
            Require(e.Port is > 0 and < 65536, "email.port", "must be 1 to 65535");
            Require(!string.IsNullOrWhiteSpace(e.From), "email.from", "is required");
            Require(e.To.Count is > 0 and <= MaxRecipients, "email.to", $"must hold 1 to {MaxRecipients} addresses");
            Require(e.Password is null || SecretReferences.IsReference(e.Password) && IsAllowedReference(e.Password),
                "email.password", $"must be a secret reference (cipher_keys:<id> or {AllowedEnvPrefix}*)");
        }
    }


    private static AuthException NotFound(string id) =>
        new(AuthErrorKind.NotFound, $"no alert destination '{id}' in this org");

    private static (string, object?)[] Args(Destination d) => [("o", d.Org), ("id", d.Id), ("name", d.Spec.Name),
        ("kind", AlertNames.Of(d.Spec.Kind)), ("spec", AlertJson.Write(d.Spec)), ("at", d.UpdatedAtMicros)];

    private static Destination Map(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt64(2),
        AlertJson.Read<DestinationSpec>(r.GetString(3)));
}
