using MoleSignal.Grains.Abstractions.Auth;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// API tokens: a user's own (acting with the user's roles), or an org's service tokens (one role in one org,
/// made and revoked by that org's admins). The secret is shown once at creation.
/// </summary>
public sealed class TokenService(AuthStore store, CredentialCache cache, IAuditLog audit,
    TimeProvider clock) : ITokenService
{
    public const int MaxTokensPerOwner = 100;

    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(Principal p, string org, CancellationToken ct)
    {
        var rows = new List<TokenRow>();
        if (p.UserId is not null) rows.AddRange(await store.TokensOfAsync(p.UserId, null, ct));
        if (p.Allows(org, Permission.Admin)) rows.AddRange(await store.TokensOfAsync(null, org, ct));
        var emails = new Dictionary<string, string>();
        if (p.UserId is not null) emails[p.UserId] = p.Email;
        var now = Clock.NowMicros(clock);
        return rows.Where(r => r.ExpiresAtMicros is null || r.ExpiresAtMicros > now)
            .Select(r => Info(r, r.UserId is null ? null : emails.GetValueOrDefault(r.UserId))).ToList();
    }

    public async Task<CreatedToken> CreateAsync(Principal actor, string name, string? org, OrgRole? role, TimeSpan? ttl,
        string client, CancellationToken ct)
    {
        name = name.Trim();
        if (name.Length is 0 or > 128 || name.Any(char.IsControl))
            throw new AuthException(AuthErrorKind.Invalid, "a token's name has 1 to 128 printable characters");
        if (ttl is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromDays(3650)))
            throw new AuthException(AuthErrorKind.Invalid, "expires_in_secs is between 1 and 10 years");
        string? owner;
        if (org is null)
        {
            if (role is not null) throw new AuthException(AuthErrorKind.Invalid,
                "a role binds a service token: name its org too");
            owner = actor.UserId ?? throw new AuthException(AuthErrorKind.Forbidden,
                "a service token cannot make tokens");
        }
        else
        {
            if (role is null) throw new AuthException(AuthErrorKind.Invalid,
                "a service token needs a role: " + OrgRoles.Names);
            if (!actor.Allows(org, Permission.Admin))
                throw new AuthException(AuthErrorKind.Forbidden, $"only an admin of '{org}' makes its service tokens");
            owner = null;
        }
        var live = await store.TokensOfAsync(owner, owner is null ? org : null, ct);
        if (live.Count >= MaxTokensPerOwner)
            throw new AuthException(AuthErrorKind.LimitReached,
                $"at most {MaxTokensPerOwner} live tokens per user or org");

        var now = Clock.NowMicros(clock);
        while (true)
        {
            var (prefix, secret, token) = ApiTokenFormat.New();
            var row = new TokenRow(prefix, name, owner, org, role, PasswordHasher.Hash(secret), now,
                ttl is { } life ? now + (long)life.TotalMicroseconds : null, null);
            if (!await store.InsertTokenAsync(row, ct)) continue; // a prefix collision: draw again
            audit.Record(actor.Actor, org, "token_create", prefix, client, "ok");
            return new CreatedToken(Info(row, owner is null ? null : actor.Email), token);
        }
    }

    public async Task RevokeAsync(Principal actor, string id, string client, CancellationToken ct)
    {
        var row = await store.TokenAsync(id, ct);
        var mine = row?.UserId is not null && row.UserId == actor.UserId;
        var adminOfIt = row?.UserId is null && row?.Org is { } o && actor.Allows(o, Permission.Admin);
        if (row is null || row.RevokedAtMicros is not null || !(mine || adminOfIt || actor.IsRoot))
        {
            audit.Record(actor.Actor, row?.Org, "token_revoke", id, client, "not_found");
            throw new AuthException(AuthErrorKind.NotFound, $"no token '{id}' of yours");
        }
        await store.RevokeTokenAsync(id, Clock.NowMicros(clock), ct);
        cache.Forget(p => p.TokenId == id);
        audit.Record(actor.Actor, row.Org, "token_revoke", id, client, "ok");
    }

    private static ApiTokenInfo Info(TokenRow r, string? ownerEmail) =>
        new(r.TokenId, r.Name, ownerEmail, r.Org, r.Role, r.CreatedAtMicros, r.ExpiresAtMicros);
}
