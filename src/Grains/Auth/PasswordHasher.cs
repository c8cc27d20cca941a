using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// argon2id in the PHC string form (<c>$argon2id$v=19$m=19456,t=2,p=1$salt$hash</c>), the parameters OWASP
/// recommends; the parameters travel in the string, so raising them later keeps old hashes verifiable.
/// </summary>
public static class PasswordHasher
{
    private const int MemoryKib = 19456, Iterations = 2, Parallelism = 1, SaltBytes = 16, HashBytes = 32;

    public static string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Derive(secret, salt, MemoryKib, Iterations, Parallelism, HashBytes);
        return $"$argon2id$v=19$m={MemoryKib},t={Iterations},p={Parallelism}${B64(salt)}${B64(hash)}";
    }

    public static bool Verify(string secret, string phc)
    {
        var parts = phc.Split('$');
        if (parts.Length != 6 || parts[1] != "argon2id") return false;
        int m = 0, t = 0, p = 0;
        foreach (var kv in parts[3].Split(','))
        {
            if (kv.Length < 3 || kv[1] != '=' || !int.TryParse(kv.AsSpan(2), out var n)) return false;
            switch (kv[0])
            {
                case 'm': m = n; break;
                case 't': t = n; break;
                case 'p': p = n; break;
            }
        }
        if (m <= 0 || t <= 0 || p <= 0) return false;
        byte[] salt, expected;
        try
        {
            salt = FromB64(parts[4]);
            expected = FromB64(parts[5]);
        }
        catch (FormatException)
        {
            return false;
        }
        var actual = Derive(secret, salt, m, t, p, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static byte[] Derive(string secret, byte[] salt, int m, int t, int p, int length)
    {
        using var argon = new Argon2id(Encoding.UTF8.GetBytes(secret))
        {
            Salt = salt, MemorySize = m, Iterations = t, DegreeOfParallelism = p,
        };
        return argon.GetBytes(length);
    }

    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=');

    private static byte[] FromB64(string s) => Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4,
        '='));
}
