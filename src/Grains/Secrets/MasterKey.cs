using System.Security.Cryptography;

namespace MoleSignal.Grains.Secrets;

/// <summary>
/// The key that wraps every secret's data key: <c>MS_CIPHER_KEY</c> (base64 of 32 bytes), or the all-zero dev key
/// a standalone node falls back to. <see cref="Id"/> (a hash prefix) names it in each row, so a row sealed under
/// another key is told apart instead of decrypting to garbage.
/// </summary>
public sealed class MasterKey
{
    public const int Bytes = 32;

    private MasterKey(byte[] key, bool isDev)
    {
        Key = key;
        IsDev = isDev;
        Id = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8));
    }

    public byte[] Key { get; }

    public bool IsDev { get; }

    public string Id { get; }

    public static MasterKey Dev => new(new byte[Bytes], true);

    /// <summary>The key from its base64 text; null text gives the dev key. Throws FormatException on a bad
    /// key.</summary>
    public static MasterKey From(string? base64)
    {
        if (string.IsNullOrEmpty(base64)) return Dev;
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new FormatException("MS_CIPHER_KEY is not base64");
        }
        if (key.Length != Bytes) throw new FormatException($"MS_CIPHER_KEY holds {key.Length} bytes, not {Bytes}");
        return new MasterKey(key, key.All(b => b == 0));
    }

    /// <summary>AES-256-GCM: base64 of nonce (12) | tag (16) | ciphertext.</summary>
    public static string Seal(byte[] key, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> context)
    {
        var output = new byte[12 + 16 + plain.Length];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using var gcm = new AesGcm(key, 16);
        gcm.Encrypt(output.AsSpan(0, 12), plain, output.AsSpan(28), output.AsSpan(12, 16), context);
        return Convert.ToBase64String(output);
    }

    /// <summary>Throws <see cref="CryptographicException"/> when the key, the context or the bytes do not
    /// match.</summary>
    public static byte[] Open(byte[] key, string sealedText, ReadOnlySpan<byte> context)
    {
        var input = Convert.FromBase64String(sealedText);
        if (input.Length < 28) throw new CryptographicException("sealed value too short");
        var plain = new byte[input.Length - 28];
        using var gcm = new AesGcm(key, 16);
        gcm.Decrypt(input.AsSpan(0, 12), input.AsSpan(28), input.AsSpan(12, 16), plain, context);
        return plain;
    }
}
