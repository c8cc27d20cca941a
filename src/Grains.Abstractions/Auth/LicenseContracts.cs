namespace MoleSignal.Grains.Abstractions.Auth;

/// <summary>The feature names a license may grant.</summary>
public static class LicenseFeatures
{
    /// <summary>Queries over remote clusters (<c>?clusters=</c> naming anything but <c>local</c>).</summary>
    public const string FederatedSearch = "federated_search";

    /// <summary>The error code of a request that needs a feature the license does not grant.</summary>
    public const string RequiredCode = "license_required";

    /// <summary>Why a query naming remote clusters is refused (403 <see cref="RequiredCode"/>).</summary>
    public static string FederationRefusal(LicenseState? state) =>
        $"querying remote clusters needs a license with the {FederatedSearch} feature (" +
        (state is { Valid: true } ? "the license does not grant it" : state?.Reason ?? "no license") +
        "); clusters=local needs none";
}

/// <summary>
/// The license this node runs under (<c>MS_LICENSE_FILE</c>): whom it names, what it grants and until when, and
/// whether it holds; <see cref="Reason"/> says why not (no file, bad signature, expired, not yet valid).
/// </summary>
public sealed record LicenseState(string? Licensee, IReadOnlyList<string> Features, DateTimeOffset? NotBefore,
    DateTimeOffset? Expires, bool Valid, string? Reason)
{
    public static LicenseState None(string reason) => new(null, [], null, null, false, reason);
}

public interface ILicense
{
    /// <summary>The state now (a license expires while the node runs).</summary>
    LicenseState Current { get; }

    bool Allows(string feature);
}
