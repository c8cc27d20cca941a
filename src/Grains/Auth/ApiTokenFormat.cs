using System.Security.Cryptography;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// API tokens are <c>ms_&lt;prefix&gt;_&lt;secret&gt;</c>: the prefix (12 hex) is the token's id, stored plain and
/// indexed; the secret (40 hex, 160 bits) is kept only as an argon2id hash.
/// </summary>
public static class ApiTokenFormat
{
    public const int PrefixLength = 12, SecretLength = 40;

    public static (string Prefix, string Secret, string Token) New()
    {
        var prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(PrefixLength / 2));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretLength / 2));
        return (prefix, secret, $"ms_{prefix}_{secret}");
    }

    /// <summary>Whether <paramref name="text"/> has the token shape (says nothing of its validity).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out string prefix, out string secret)
    {
        prefix = secret = "";
        if (text.Length != 3 + PrefixLength + 1 + SecretLength || !text.StartsWith("ms_")
            || text[3 + PrefixLength] != '_')
            return false;
        var p = text.Slice(3, PrefixLength);
        var s = text[(4 + PrefixLength)..];
        if (!IsHex(p) || !IsHex(s)) return false;
        prefix = p.ToString();
        secret = s.ToString();
        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        return true;
    }
}
