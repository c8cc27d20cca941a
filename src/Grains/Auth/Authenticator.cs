using System.Buffers.Text;
using System.Text;
using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// Basic (email:password or email:api_token) and Bearer (API token or JWT) into a principal. A header seen within
/// <c>token_cache_secs</c> costs a SHA-256 and a dictionary read; after that its row is re-read (revocations and
/// role changes show), and argon2 runs again only when the stored hash changed.
/// </summary>
public sealed class Authenticator(
    AuthStore store, CredentialCache cache, LoginThrottle throttle, JwtService jwt, IAuditLog audit,
    LiveSettings<AuthSettings> settings, TimeProvider clock) : IAuthenticator
{
    public static readonly Principal Anonymous = new(null, "anonymous", true, new Dictionary<string, OrgRole>(),
        CredentialKind.AuthDisabled, null);

    public bool Enabled => settings.Current.Enabled;

    public async ValueTask<AuthOutcome> AuthenticateAsync(string? authorization, string clientAddress,
        CancellationToken ct)
    {
        if (!Enabled) return AuthOutcome.Of(Anonymous);
        if (string.IsNullOrEmpty(authorization)) return AuthOutcome.Fail(AuthFailure.Missing);
        var now = clock.GetUtcNow().UtcTicks;
        var key = CredentialCache.KeyOf(authorization);
        if (cache.TryGet(key, out var hit))
        {
            if (hit.NotAfter <= now) cache.Remove(key);
            else if (hit.FreshUntil > now) return AuthOutcome.Of(hit.Principal);
        }
        var (entry, failure, retry) = await VerifyAsync(authorization, hit, clientAddress, ct);
        if (entry is null)
        {
            cache.Remove(key);
            if (failure == AuthFailure.Invalid)
                audit.Record(ActorOf(authorization), null, "credential_refused", null, clientAddress, "unauthorized");
            return AuthOutcome.Fail(failure, retry);
        }
        cache.Put(key, entry, now);
        return AuthOutcome.Of(entry.Principal);
    }

    private async Task<(CredentialCache.Entry?, AuthFailure, int)> VerifyAsync(string header,
        CredentialCache.Entry? stale,
        string client, CancellationToken ct)
    {
        var space = header.IndexOf(' ');
        if (space <= 0) return (null, AuthFailure.Invalid, 0);
        var scheme = header.AsSpan(0, space);
        var value = header.AsSpan(space + 1).Trim();
        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            if (ApiTokenFormat.TryParse(value, out var prefix, out var secret))
                return (await TokenAsync(prefix, secret, null, stale, ct), AuthFailure.Invalid, 0);
            return (await JwtAsync(value.ToString(), ct), AuthFailure.Invalid, 0);
        }
        if (!scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || !TryDecodeBasic(value, out var user,
            out var pass))
            return (null, AuthFailure.Invalid, 0);
        if (ApiTokenFormat.TryParse(pass, out var p, out var s))
            return (await TokenAsync(p, s, user, stale, ct), AuthFailure.Invalid, 0);
        return await PasswordAsync(user, pass, stale, client, ct);
    }

    private async Task<CredentialCache.Entry?> TokenAsync(string prefix, string secret, string? basicUser,
        CredentialCache.Entry? stale, CancellationToken ct)
    {
        var row = await store.TokenAsync(prefix, ct);
        var nowMicros = Clock.NowMicros(clock);
        if (row is null || row.RevokedAtMicros is not null || row.ExpiresAtMicros <= nowMicros) return null;
        if (stale?.Verified != row.SecretHash && !PasswordHasher.Verify(secret, row.SecretHash)) return null;
        Principal principal;
        if (row.UserId is null)
        {
            if (row.Org is null || row.Role is not { } role) return null;
            principal = new Principal(null, $"token:{row.TokenId}", false,
                new Dictionary<string, OrgRole>(StringComparer.Ordinal) { [row.Org] = role }, CredentialKind.ServiceToken, row.TokenId);
        }
        else
        {
            var user = await store.UserByIdAsync(row.UserId, ct);
            if (user is null) return null;
            // Basic with a user token names its owner; a service token (no owner) takes any user name.
            if (basicUser is not null && !string.Equals(basicUser, user.Email,
                StringComparison.OrdinalIgnoreCase)) return null;
            principal = new Principal(user.UserId, user.Email, user.IsRoot, await store.RolesAsync(user.UserId, ct),
                CredentialKind.UserToken, row.TokenId);
        }
        var notAfter = row.ExpiresAtMicros is { } e ? e * 10 + DateTimeOffset.UnixEpoch.UtcTicks : long.MaxValue;
        return Entry(principal, row.SecretHash, notAfter);
    }

    private async Task<(CredentialCache.Entry?, AuthFailure, int)> PasswordAsync(string email, string password,
        CredentialCache.Entry? stale, string client, CancellationToken ct)
    {
        email = email.Trim().ToLowerInvariant();
        var wait = throttle.RetryAfter(email, client);
        if (wait > 0) return (null, AuthFailure.Throttled, wait);
        var user = await store.UserByEmailAsync(email, ct);
        if (user is null || (stale?.Verified != user.PasswordHash && !PasswordHasher.Verify(password,
            user.PasswordHash)))
        {
            throttle.Failed(email, client);
            return (null, AuthFailure.Invalid, 0);
        }
        throttle.Succeeded(email, client);
        var principal = new Principal(user.UserId, user.Email, user.IsRoot, await store.RolesAsync(user.UserId, ct),
            CredentialKind.Password, null);
        return (Entry(principal, user.PasswordHash, long.MaxValue), AuthFailure.None, 0);
    }

    private async Task<CredentialCache.Entry?> JwtAsync(string token, CancellationToken ct)
    {
        var claims = await jwt.ValidateAsync(token);
        if (claims is not { } c) return null;
        var user = await store.UserByIdAsync(c.UserId, ct);
        if (user is null || user.TokenVersion != c.Version) return null;
        var principal = new Principal(user.UserId, user.Email, user.IsRoot, await store.RolesAsync(user.UserId, ct),
            CredentialKind.Jwt, null);
        return Entry(principal, "tv:" + c.Version, c.Expires.UtcTicks);
    }

    private CredentialCache.Entry Entry(Principal p, string verified, long notAfter) =>
        new(p, verified, (clock.GetUtcNow() + settings.Current.TokenCacheTtl).UtcTicks, notAfter);

    private static bool TryDecodeBasic(ReadOnlySpan<char> value, out string user, out string password)
    {
        user = password = "";
        if (value.Length > 8192) return false;
        Span<byte> bytes = stackalloc byte[Base64.GetMaxDecodedFromUtf8Length(value.Length)];
        if (!Convert.TryFromBase64Chars(value, bytes, out var n)) return false;
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes[..n]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        user = text[..colon];
        password = text[(colon + 1)..];
        return true;
    }

    /// <summary>Who a refused header claimed to be, for the audit row; never any part of a secret.</summary>
    private static string ActorOf(string header)
    {
        var space = header.IndexOf(' ');
        if (space > 0 && header.AsSpan(0, space).Equals("Basic", StringComparison.OrdinalIgnoreCase)
            && TryDecodeBasic(header.AsSpan(space + 1).Trim(), out var user, out _))
            return user.Length > 320 ? user[..320] : user;
        if (space > 0 && ApiTokenFormat.TryParse(header.AsSpan(space + 1).Trim(), out var prefix,
            out _)) return "token:" + prefix;
        return "unknown";
    }
}
