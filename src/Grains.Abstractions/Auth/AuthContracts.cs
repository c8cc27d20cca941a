namespace MoleSignal.Grains.Abstractions.Auth;

/// <summary>Why a request has no principal; each maps to one answer at the edge.</summary>
public enum AuthFailure : byte
{
    None,

    /// <summary>No Authorization header.</summary>
    Missing,

    /// <summary>A header that names no valid credential (bad password, unknown, revoked or expired token, bad
    /// JWT).</summary>
    Invalid,

    /// <summary>Too many failed logins for this email and client address; retry later.</summary>
    Throttled,
}

public readonly record struct AuthOutcome(Principal? Principal, AuthFailure Failure, int RetryAfterSecs = 0)
{
    public static AuthOutcome Of(Principal p) => new(p, AuthFailure.None);

    public static AuthOutcome Fail(AuthFailure f, int retryAfter = 0) => new(null, f, retryAfter);
}

/// <summary>Turns an <c>Authorization</c> header into a principal; fast for credentials seen before.</summary>
public interface IAuthenticator
{
    /// <summary>False only on a loopback sandbox started with <c>[auth].enabled = false</c>.</summary>
    bool Enabled { get; }

    ValueTask<AuthOutcome> AuthenticateAsync(string? authorization, string clientAddress, CancellationToken ct);
}

public sealed record LoginToken(string Token, DateTimeOffset ExpiresAt);

public sealed record Membership(string Org, OrgRole Role);

public sealed record Me(string UserId, string Email, bool IsRoot, IReadOnlyList<Membership> Orgs, CredentialKind Kind);

/// <summary>Login, the caller's own account and password.</summary>
public interface IAccountService
{
    /// <summary>Throws <see cref="AuthException"/> (Unauthorized, Throttled) on failure.</summary>
    Task<LoginToken> LoginAsync(string email, string password, string clientAddress, CancellationToken ct);

    Task<Me> MeAsync(Principal principal, CancellationToken ct);

    /// <summary>A new JWT for the user of a still-valid one (a session that stays open refreshes before expiry);
    /// Forbidden for any other credential.</summary>
    Task<LoginToken> RefreshAsync(Principal principal, CancellationToken ct);

    /// <summary>Sets a new password and bumps the user's token version: JWTs issued before stop working.</summary>
    Task ChangePasswordAsync(Principal principal, string current, string next, string clientAddress,
        CancellationToken ct);
}

/// <summary>What went wrong in an auth or tenancy operation; the gateway maps each kind to one status.</summary>
public enum AuthErrorKind : byte { Invalid, Unauthorized, Forbidden, NotFound, Conflict, Throttled, LimitReached }

public sealed class AuthException(AuthErrorKind kind, string message, int retryAfterSecs = 0) : Exception(message)
{
    public AuthErrorKind Kind { get; } = kind;

    public int RetryAfterSecs { get; } = retryAfterSecs;
}
