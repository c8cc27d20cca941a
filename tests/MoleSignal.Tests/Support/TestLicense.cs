using System.Text;
using System.Text.Json;
using NSec.Cryptography;

namespace MoleSignal.Tests.Support;

/// <summary>A self-issued license key pair, as an operator makes one: its public key goes into
/// [license].trusted_public_keys, its licenses into files MS_LICENSE_FILE names.</summary>
public sealed class TestLicense : IDisposable
{
    private readonly Key _key = Key.Create(SignatureAlgorithm.Ed25519);

    public string PublicKey => Convert.ToBase64String(_key.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    public static byte[] Payload(string[] features, DateTimeOffset notBefore, DateTimeOffset expires) =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            licensee = "MoleSignal tests", features, not_before = notBefore.ToString("O"),
            expires = expires.ToString("O"),
        });

    /// <summary>The license file's JSON for <paramref name="payload"/>, signed by this key (or the signature of
    /// <paramref name="signed"/> when given: a tampered file).</summary>
    public string File(byte[] payload, byte[]? signed = null) => JsonSerializer.Serialize(new
    {
        payload = Convert.ToBase64String(payload),
        signature = Convert.ToBase64String(SignatureAlgorithm.Ed25519.Sign(_key, signed ?? payload)),
    });

    /// <summary>A license granting <paramref name="features"/> from yesterday to tomorrow.</summary>
    public string Valid(params string[] features) =>
        File(Payload(features, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)));

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public void Dispose() => _key.Dispose();
}
