using Microsoft.Extensions.Time.Testing;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Federation;

namespace MoleSignal.Tests.Federation;

/// <summary>The license file: Ed25519 over the payload's bytes, trusted keys, and its time window.</summary>
public sealed class LicenseTests : IDisposable
{
    private readonly TempDir _dir = new("ms-license");
    private readonly TestLicense _issuer = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-06-01T00:00:00Z"));
    private static readonly DateTimeOffset From = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
    private static readonly DateTimeOffset Until = DateTimeOffset.Parse("2027-01-01T00:00:00Z");

    private License Load(string json, params string[] trusted)
    {
        var path = _dir.Combine(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return new License(path, trusted, _clock);
    }

    private string Signed(params string[] features) => _issuer.File(TestLicense.Payload(features, From, Until));

    [Fact]
    public void A_license_signed_by_a_trusted_key_grants_its_features_within_its_window()
    {
        var license = Load(Signed(LicenseFeatures.FederatedSearch, "sso"), _issuer.PublicKey);
        var state = license.Current;
        Assert.True(state.Valid, state.Reason);
        Assert.Equal("MoleSignal tests", state.Licensee);
        Assert.Equal([LicenseFeatures.FederatedSearch, "sso"], state.Features);
        Assert.Equal(Until, state.Expires);
        Assert.True(license.Allows(LicenseFeatures.FederatedSearch));
        Assert.False(license.Allows("something_else"));
    }

    [Fact]
    public void It_expires_while_the_node_runs_and_is_not_valid_before_its_start()
    {
        var early = new FakeTimeProvider(From.AddSeconds(-1));
        var path = _dir.Combine("early.json");
        File.WriteAllText(path, Signed(LicenseFeatures.FederatedSearch));
        var license = new License(path, [_issuer.PublicKey], early);
        Assert.False(license.Current.Valid);
        Assert.Contains("not valid before", license.Current.Reason);
        early.Advance(TimeSpan.FromSeconds(1));
        Assert.True(license.Allows(LicenseFeatures.FederatedSearch));
        early.SetUtcNow(Until);
        Assert.False(license.Allows(LicenseFeatures.FederatedSearch));
        Assert.Contains("expired", license.Current.Reason);
    }

    [Fact]
    public void A_changed_payload_an_untrusted_key_or_a_broken_file_grants_nothing()
    {
        var payload = TestLicense.Payload([LicenseFeatures.FederatedSearch], From, Until);
        var other = TestLicense.Payload([LicenseFeatures.FederatedSearch], From, Until.AddYears(10));
        var cases = new Dictionary<string, License>
        {
            ["tampered"] = Load(_issuer.File(other, signed: payload), _issuer.PublicKey),
            ["untrusted"] = Load(Signed(LicenseFeatures.FederatedSearch)),
            ["not json"] = Load("{payload", _issuer.PublicKey),
            ["no signature"] = Load($$"""{"payload":"{{Convert.ToBase64String(payload)}}"}""", _issuer.PublicKey),
        };
        foreach (var (name, license) in cases)
        {
            Assert.False(license.Current.Valid, name);
            Assert.False(license.Allows(LicenseFeatures.FederatedSearch), name);
            Assert.False(string.IsNullOrEmpty(license.Current.Reason), name);
        }
        Assert.Contains("signature", cases["tampered"].Current.Reason);
        Assert.Contains("signature", cases["untrusted"].Current.Reason);
        Assert.False(new License(null, [], _clock).Current.Valid);
        Assert.False(new License(_dir.Combine("missing.json"), [], _clock).Current.Valid);
    }

    [Fact]
    public void A_trusted_key_that_is_not_32_bytes_of_base64_is_refused()
    {
        Assert.Throws<ArgumentException>(() => License.Keys(["not base64!"]));
        Assert.Throws<ArgumentException>(() => License.Keys([Convert.ToBase64String(new byte[31])]));
        Assert.Equal(2, License.Keys([_issuer.PublicKey]).Count);
    }

    public void Dispose()
    {
        _issuer.Dispose();
        _dir.Dispose();
    }
}
