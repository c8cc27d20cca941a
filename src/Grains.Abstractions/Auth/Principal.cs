namespace MoleSignal.Grains.Abstractions.Auth;

public enum CredentialKind : byte { Password, Jwt, UserToken, ServiceToken, AuthDisabled }

/// <summary>
/// Who a request acts as: a user (by password, JWT or one of the user's API tokens) with the user's roles, or a
/// service token bound to one org and one role. <see cref="Actor"/> names it in the audit log.
/// </summary>
public sealed record Principal(
    string? UserId,
    string Email,
    bool IsRoot,
    IReadOnlyDictionary<string, OrgRole> Roles,
    CredentialKind Kind,
    string? TokenId)
{
    public string Actor => Kind == CredentialKind.ServiceToken ? $"token:{TokenId}" : Email;

    public bool Allows(string org, Permission permission) =>
        IsRoot || (permission != Permission.Root && Roles.TryGetValue(org, out var role) && OrgRoles.Allows(role,
            permission));

    /// <summary>Whether the principal has any role in the org (root: every org).</summary>
    public bool IsMemberOf(string org) => IsRoot || Roles.ContainsKey(org);
}
