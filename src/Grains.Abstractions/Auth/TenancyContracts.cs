namespace MoleSignal.Grains.Abstractions.Auth;

public sealed record OrgInfo(string Org, string Name, long CreatedAtMicros);

public sealed record MemberInfo(string Email, OrgRole Role, bool IsRoot);

/// <summary>Orgs and their members. Callers have checked the principal's permission; this checks the data.</summary>
public interface IOrgDirectory
{
    Task<IReadOnlyList<OrgInfo>> ListAsync(Principal principal, CancellationToken ct);

    Task<OrgInfo?> GetAsync(string org, CancellationToken ct);

    Task<OrgInfo> CreateAsync(Principal actor, string org, string? name, string client, CancellationToken ct);

    Task<OrgInfo> RenameAsync(Principal actor, string org, string name, string client, CancellationToken ct);

    /// <summary>Removes the org, its members, service tokens, quotas and secrets; its data stays in storage.</summary>
    Task DeleteAsync(Principal actor, string org, string client, CancellationToken ct);

    /// <summary>Creates the org on first use by root (ingest into a new org); a no-op when it exists.</summary>
    ValueTask EnsureAsync(string org, CancellationToken ct);

    Task<IReadOnlyList<MemberInfo>> MembersAsync(string org, CancellationToken ct);

    /// <summary>Adds a member; an unknown email becomes a new user with <paramref name="password"/>.</summary>
    Task<MemberInfo> AddMemberAsync(Principal actor, string org, string email, OrgRole role, string? password,
        string client, CancellationToken ct);

    Task<MemberInfo> SetRoleAsync(Principal actor, string org, string email, OrgRole role, string client,
        CancellationToken ct);

    Task RemoveMemberAsync(Principal actor, string org, string email, string client, CancellationToken ct);
}

public sealed record ApiTokenInfo(
    string Id, string Name, string? Owner, string? Org, OrgRole? Role, long CreatedAtMicros, long? ExpiresAtMicros);

/// <summary>A token as created: <see cref="Token"/> is shown this once and never stored.</summary>
public sealed record CreatedToken(ApiTokenInfo Info, string Token);

public interface ITokenService
{
    /// <summary>The principal's own tokens, and the service tokens of <paramref name="org"/> when it may admin
    /// it.</summary>
    Task<IReadOnlyList<ApiTokenInfo>> ListAsync(Principal principal, string org, CancellationToken ct);

    /// <summary>A user token (no org), or a service token bound to <paramref name="org"/> and <paramref
    /// name="role"/>.</summary>
    Task<CreatedToken> CreateAsync(Principal actor, string name, string? org, OrgRole? role, TimeSpan? ttl,
        string client, CancellationToken ct);

    Task RevokeAsync(Principal actor, string id, string client, CancellationToken ct);
}
