namespace MoleSignal.Grains.Abstractions.Auth;

/// <summary>
/// How saved settings name a secret instead of holding it: <c>cipher_keys:&lt;id&gt;</c> (a sealed secret of
/// the org) or <c>env:VAR</c> (an environment variable of the server). The one home of that syntax.
/// </summary>
public static class SecretReferences
{
    public const string CipherKeysPrefix = "cipher_keys:", EnvPrefix = "env:";

    public static string CipherKeys(string id) => CipherKeysPrefix + id;

    public static bool IsReference(string value) =>
        value.StartsWith(CipherKeysPrefix, StringComparison.Ordinal)
        || value.StartsWith(EnvPrefix, StringComparison.Ordinal);
}
