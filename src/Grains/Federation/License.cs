using System.Text.Json;
using System.Text.Json.Serialization;
using MoleSignal.Grains.Abstractions.Auth;
using NSec.Cryptography;

namespace MoleSignal.Grains.Federation;

/// <summary>
/// A license file: <c>{"payload": base64 of a JSON object {licensee, features, not_before, expires} (RFC 3339),
/// "signature": base64 of the Ed25519 signature of the decoded payload bytes}</c>. It holds when one trusted key
/// signed exactly those bytes and now lies in [not_before, expires).
/// </summary>
public sealed class License : ILicense
{
    /// <summary>The project's own license key (the public half of a raw Ed25519 key pair; the private half is
    /// not in the repository).</summary>
    public const string ProjectPublicKey = "0m6bwOs++WWX8atuVMa8DzREawZBvoCbOM89MsSCWY8=";

    private readonly Terms? _terms;
    private readonly string? _refused;
    private readonly TimeProvider _clock;

    private sealed record Terms(string Licensee, string[] Features, DateTimeOffset NotBefore, DateTimeOffset Expires);

    private sealed record FileBody(
        [property: JsonPropertyName("payload")] string? Payload,
        [property: JsonPropertyName("signature")] string? Signature);

    private sealed record PayloadBody(
        [property: JsonPropertyName("licensee")] string? Licensee,
        [property: JsonPropertyName("features")] string[]? Features,
        [property: JsonPropertyName("not_before")] DateTimeOffset? NotBefore,
        [property: JsonPropertyName("expires")] DateTimeOffset? Expires);

    /// <param name="file">The license file's path; null: no license (every feature off).</param>
    /// <param name="trustedKeys">Base64 raw 32-byte Ed25519 public keys trusted beside the project's.</param>
    public License(string? file, IEnumerable<string> trustedKeys, TimeProvider clock)
    {
        _clock = clock;
        if (string.IsNullOrEmpty(file))
        {
            _refused = "no license (MS_LICENSE_FILE is not set)";
            return;
        }
        try
        {
            _terms = Read(File.ReadAllBytes(file), Keys(trustedKeys));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _refused = $"the license file cannot be read: {e.Message}";
        }
        catch (LicenseException e)
        {
            _refused = e.Message;
        }
    }

    public LicenseState Current
    {
        get
        {
            if (_terms is not { } t) return LicenseState.None(_refused!);
            var now = _clock.GetUtcNow();
            var reason = now < t.NotBefore ? $"not valid before {t.NotBefore:O}"
                : now >= t.Expires ? $"expired at {t.Expires:O}"
                : null;
            return new LicenseState(t.Licensee, t.Features, t.NotBefore, t.Expires, reason is null, reason);
        }
    }

    public bool Allows(string feature) => Current is { Valid: true } s && s.Features.Contains(feature);

    /// <summary>Every trusted key; a key that is not base64 of 32 bytes is a configuration error.</summary>
    public static List<PublicKey> Keys(IEnumerable<string> trusted)
    {
        var keys = new List<PublicKey>();
        foreach (var text in trusted.Prepend(ProjectPublicKey))
        {
            var ok = TryBase64(text, out var raw) && raw.Length == 32;
            if (!ok || !PublicKey.TryImport(SignatureAlgorithm.Ed25519, raw, KeyBlobFormat.RawPublicKey, out var key))
                throw new ArgumentException($"'{text}' is not base64 of a raw 32-byte Ed25519 public key");
            keys.Add(key!);
        }
        return keys;
    }

    private static Terms Read(byte[] file, List<PublicKey> keys)
    {
        FileBody? body;
        try
        {
            body = JsonSerializer.Deserialize<FileBody>(file);
        }
        catch (JsonException)
        {
            throw new LicenseException("the license file is not JSON of the form {\"payload\", \"signature\"}");
        }
        if (body?.Payload is null || !TryBase64(body.Payload, out var payload))
            throw new LicenseException("the license file has no base64 payload");
        if (body.Signature is null || !TryBase64(body.Signature, out var signature))
            throw new LicenseException("the license file has no base64 signature");
        if (!keys.Any(k => SignatureAlgorithm.Ed25519.Verify(k, payload, signature)))
            throw new LicenseException("the license signature does not verify against a trusted key");
        PayloadBody? terms;
        try
        {
            terms = JsonSerializer.Deserialize<PayloadBody>(payload);
        }
        catch (JsonException e)
        {
            throw new LicenseException($"the license payload is not valid: {e.Message}");
        }
        if (terms is not { Licensee: { } licensee, NotBefore: { } from, Expires: { } until })
            throw new LicenseException("the license payload lacks licensee, not_before or expires");
        return new Terms(licensee, terms.Features ?? [], from, until);
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, bytes, out var n)) return false;
        bytes = bytes[..n];
        return true;
    }

    private sealed class LicenseException(string message) : Exception(message);
}
