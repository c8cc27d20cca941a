using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// Credentials this node has verified, keyed by a SHA-256 of the whole <c>Authorization</c> header. A fresh entry
/// (younger than <c>[auth].token_cache_secs</c>) answers alone; a stale one is confirmed against its row (the
/// same stored hash, not revoked, same token version) without running argon2 again. Bounded: past
/// <see cref="MaxEntries"/> stale entries go, then all.
/// </summary>
public sealed class CredentialCache
{
    public const int MaxEntries = 20_000;

    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct Key(ulong A, ulong B, ulong C, ulong D);

    /// <param name="Verified">The stored hash the secret was verified against (token or password), or for a JWT the
    /// token version it carries: a change of either sends the credential back through full verification.</param>
    /// <param name="NotAfter">When the credential itself expires (token expiry, JWT exp), UTC ticks.</param>
    public sealed record Entry(Principal Principal, string Verified, long FreshUntil, long NotAfter);

    private readonly ConcurrentDictionary<Key, Entry> _entries = new();

    public int Count => _entries.Count;

    public static Key KeyOf(string header)
    {
        Span<byte> hash = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(header.Length);
        byte[]? rented = max > 1024 ? System.Buffers.ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[max];
        var n = Encoding.UTF8.GetBytes(header, utf8);
        SHA256.HashData(utf8[..n], hash);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return MemoryMarshal.Read<Key>(hash);
    }

    public bool TryGet(Key key, out Entry entry) => _entries.TryGetValue(key, out entry!);

    public void Put(Key key, Entry entry, long now)
    {
        if (_entries.Count >= MaxEntries)
        {
            foreach (var (k, e) in _entries)
                if (e.FreshUntil < now) _entries.TryRemove(k, out _);
            if (_entries.Count >= MaxEntries) _entries.Clear();
        }
        _entries[key] = entry;
    }

    public void Remove(Key key) => _entries.TryRemove(key, out _);

    /// <summary>Drops what this node cached for a user (password change) or a token (revocation).</summary>
    public void Forget(Func<Principal, bool> match)
    {
        foreach (var (k, e) in _entries)
            if (match(e.Principal)) _entries.TryRemove(k, out _);
    }
}
