using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Grains.Auth;

/// <summary>Login (a JWT for email + password), the caller's own view, and password changes.</summary>
public sealed class AccountService(
    AuthStore store, JwtService jwt, LoginThrottle throttle, CredentialCache cache, IAuditLog audit,
    LiveSettings<AuthSettings> settings) : IAccountService
{
    public const int MinPasswordLength = 8, MaxPasswordLength = 1024;

    public async Task<LoginToken> LoginAsync(string email, string password, string client, CancellationToken ct)
    {
        email = email.Trim().ToLowerInvariant();
        var wait = throttle.RetryAfter(email, client);
        if (wait > 0)
        {
            audit.Record(email, null, "login", email, client, "throttled");
            throw new AuthException(AuthErrorKind.Throttled, $"too many failed logins; retry after {wait}s", wait);
        }
        var user = password.Length <= MaxPasswordLength ? await store.UserByEmailAsync(email, ct) : null;
        if (user is null || !PasswordHasher.Verify(password, user.PasswordHash))
        {
            throttle.Failed(email, client);
            audit.Record(email, null, "login", email, client, "unauthorized");
            throw new AuthException(AuthErrorKind.Unauthorized, "wrong email or password");
        }
        throttle.Succeeded(email, client);
        var (token, expires) = jwt.Issue(user, settings.Current.JwtTtl);
        return new LoginToken(token, expires);
    }

    public async Task<LoginToken> RefreshAsync(Principal p, CancellationToken ct)
    {
        // Only a session token renews itself: a password or API token already works without expiring this way.
        if (p.Kind != CredentialKind.Jwt || p.UserId is null)
            throw new AuthException(AuthErrorKind.Forbidden, "only a session token from /api/v1/auth/login refreshes");
        var user = await store.UserByIdAsync(p.UserId, ct)
            ?? throw new AuthException(AuthErrorKind.Unauthorized, "the user no longer exists");
        var (token, expires) = jwt.Issue(user, settings.Current.JwtTtl);
        return new LoginToken(token, expires);
    }

    public async Task<Me> MeAsync(Principal p, CancellationToken ct)
    {
        var orgs = p.Roles.OrderBy(kv => kv.Key,
            StringComparer.Ordinal).Select(kv => new Membership(kv.Key, kv.Value)).ToList();
        return await Task.FromResult(new Me(p.UserId ?? "", p.Email, p.IsRoot, orgs, p.Kind));
    }

    public async Task ChangePasswordAsync(Principal p, string current, string next, string client, CancellationToken ct)
    {
        if (p.UserId is null) throw new AuthException(AuthErrorKind.Forbidden, "a service token has no password");
        CheckPassword(next);
        var user = await store.UserByIdAsync(p.UserId, ct) ?? throw new AuthException(AuthErrorKind.NotFound,
            "no such user");
        if (!PasswordHasher.Verify(current, user.PasswordHash))
        {
            audit.Record(p.Actor, null, "password_change", user.Email, client, "unauthorized");
            throw new AuthException(AuthErrorKind.Unauthorized, "the current password is wrong");
        }
        await store.SetPasswordAsync(user.UserId, PasswordHasher.Hash(next), ct);
        cache.Forget(x => x.UserId == user.UserId);
        audit.Record(p.Actor, null, "password_change", user.Email, client, "ok");
    }

    public static void CheckPassword(string password)
    {
        if (password.Length < MinPasswordLength || password.Length > MaxPasswordLength)
            throw new AuthException(AuthErrorKind.Invalid,
                $"a password has {MinPasswordLength} to {MaxPasswordLength} characters");
    }
}
