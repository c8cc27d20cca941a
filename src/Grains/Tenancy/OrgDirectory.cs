using System.Collections.Concurrent;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Tenancy;

/// <summary>The <c>orgs</c> and <c>org_members</c> tables. Org names follow the stream name rule (the caller checks
/// it).</summary>
public sealed class OrgDirectory(AuthStore auth, CredentialCache cache, IAuditLog audit,
    TimeProvider clock) : IOrgDirectory
{
    public const int MaxOrgs = 10_000, MaxMembersPerOrg = 10_000;
    public const string DefaultOrg = "default";

    private readonly ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);
    private MetaStore Store => auth.Meta;

    public async Task<IReadOnlyList<OrgInfo>> ListAsync(Principal principal, CancellationToken ct)
    {
        var all = await OrgsAsync("SELECT org, name, created_at_micros FROM orgs ORDER BY org", ct);
        return principal.IsRoot ? all : all.Where(o => principal.Roles.ContainsKey(o.Org)).ToList();
    }

    public async Task<OrgInfo?> GetAsync(string org, CancellationToken ct) =>
        (await OrgsAsync("SELECT org, name, created_at_micros FROM orgs WHERE org = @o", ct, ("o",
            org))).FirstOrDefault();

    public async Task<OrgInfo> CreateAsync(Principal actor, string org, string? name, string client,
        CancellationToken ct)
    {
        if (Convert.ToInt64(await Store.ScalarAsync("SELECT COUNT(*) FROM orgs", ct)) >= MaxOrgs)
            throw new AuthException(AuthErrorKind.LimitReached, $"at most {MaxOrgs} orgs");
        var inserted = await Store.ExecuteAsync(
            "INSERT INTO orgs (org, name, created_at_micros) VALUES (@o, @n, @t) ON CONFLICT (org) DO NOTHING", ct,
            ("o", org), ("n", Name(name ?? org)), ("t", Clock.NowMicros(clock)));
        audit.Record(actor.Actor, org, "org_create", org, client, inserted == 1 ? "ok" : "conflict");
        if (inserted == 0) throw new AuthException(AuthErrorKind.Conflict, $"org '{org}' exists");
        _known[org] = 0;
        return (await GetAsync(org, ct))!;
    }

    public async Task<OrgInfo> RenameAsync(Principal actor, string org, string name, string client,
        CancellationToken ct)
    {
        if (await Store.ExecuteAsync("UPDATE orgs SET name = @n WHERE org = @o", ct, ("n", Name(name)), ("o",
            org)) == 0)
            throw new AuthException(AuthErrorKind.NotFound, $"no org '{org}'");
        audit.Record(actor.Actor, org, "org_update", org, client, "ok");
        return (await GetAsync(org, ct))!;
    }

    public async Task DeleteAsync(Principal actor, string org, string client, CancellationToken ct)
    {
        if (org == DefaultOrg) throw new AuthException(AuthErrorKind.Invalid, "the default org cannot be deleted");
        await using var conn = await Store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var deleted = 0;
        foreach (var sql in new[]
        {
            "DELETE FROM org_members WHERE org = @o",
            "UPDATE api_tokens SET revoked_at_micros = @now WHERE org = @o AND revoked_at_micros IS NULL",
            "DELETE FROM org_quotas WHERE org = @o",
            "DELETE FROM cipher_keys WHERE org = @o",
            "DELETE FROM orgs WHERE org = @o",
        })
        {
            await using var cmd = sql.Contains("@now")
                ? MetaStore.Command(conn, sql, ("o", org), ("now", Clock.NowMicros(clock)))
                : MetaStore.Command(conn, sql, ("o", org));
            cmd.Transaction = tx;
            deleted = await cmd.ExecuteNonQueryAsync(ct);
        }
        if (deleted == 0) throw new AuthException(AuthErrorKind.NotFound, $"no org '{org}'");
        await tx.CommitAsync(ct);
        _known.TryRemove(org, out _);
        cache.Forget(p => p.Roles.ContainsKey(org));
        audit.Record(actor.Actor, org, "org_delete", org, client, "ok");
    }

    public async ValueTask EnsureAsync(string org, CancellationToken ct)
    {
        if (_known.ContainsKey(org)) return;
        if (await GetAsync(org, ct) is null)
        {
            if (Convert.ToInt64(await Store.ScalarAsync("SELECT COUNT(*) FROM orgs", ct)) >= MaxOrgs)
                throw new AuthException(AuthErrorKind.LimitReached, $"at most {MaxOrgs} orgs");
            await Store.ExecuteAsync("INSERT INTO orgs (org, name, created_at_micros) VALUES (@o, @o, @t) ON CONFLICT (org) DO NOTHING",
                ct, ("o", org), ("t", Clock.NowMicros(clock)));
        }
        if (_known.Count < MaxOrgs) _known[org] = 0;
    }

    public async Task<IReadOnlyList<MemberInfo>> MembersAsync(string org, CancellationToken ct)
    {
        var rows = await Store.ReadAsync("""
            SELECT u.email, m.role, u.is_root FROM org_members m JOIN users u ON u.user_id = m.user_id
            WHERE m.org = @o ORDER BY u.email
            """, r => (Email: r.GetString(0), Role: r.GetString(1), Root: Convert.ToInt64(r.GetValue(2)) != 0), ct, ("o", org));
        var list = new List<MemberInfo>(rows.Count);
        foreach (var (email, name, root) in rows)
            if (OrgRoles.TryParse(name, out var role)) list.Add(new MemberInfo(email, role, root));
        return list;
    }

    public async Task<MemberInfo> AddMemberAsync(Principal actor, string org, string email, OrgRole role,
        string? password,
        string client, CancellationToken ct)
    {
        email = Email(email);
        await RequireOrgAsync(org, ct);
        if (Convert.ToInt64(await Store.ScalarAsync("SELECT COUNT(*) FROM org_members WHERE org = @o", ct, ("o",
            org))) >= MaxMembersPerOrg)
            throw new AuthException(AuthErrorKind.LimitReached, $"at most {MaxMembersPerOrg} members per org");
        var user = await auth.UserByEmailAsync(email, ct);
        if (user is null)
        {
            if (password is null)
                throw new AuthException(AuthErrorKind.Invalid, $"'{email}' has no account yet: give it a password");
            AccountService.CheckPassword(password);
            await auth.InsertUserAsync(new UserRow(AuthStore.NewId(), email, PasswordHasher.Hash(password), false, 0),
                Clock.NowMicros(clock), ct);
            user = await auth.UserByEmailAsync(email, ct) ?? throw new AuthException(AuthErrorKind.Conflict,
                "user vanished");
        }
        var inserted = await Store.ExecuteAsync("""
            INSERT INTO org_members (org, user_id, role, created_at_micros) VALUES (@o, @u, @r, @t)
            ON CONFLICT (org, user_id) DO NOTHING
            """, ct, ("o", org), ("u", user.UserId), ("r", OrgRoles.Name(role)), ("t", Clock.NowMicros(clock)));
        audit.Record(actor.Actor, org, "member_add", email, client, inserted == 1 ? "ok" : "conflict");
        if (inserted == 0) throw new AuthException(AuthErrorKind.Conflict, $"'{email}' is already a member of '{org}'");
        cache.Forget(p => p.UserId == user.UserId);
        return new MemberInfo(email, role, user.IsRoot);
    }

    public async Task<MemberInfo> SetRoleAsync(Principal actor, string org, string email, OrgRole role, string client,
        CancellationToken ct)
    {
        email = Email(email);
        var user = await auth.UserByEmailAsync(email, ct);
        var n = user is null ? 0
            : await Store.ExecuteAsync("UPDATE org_members SET role = @r WHERE org = @o AND user_id = @u", ct,
            ("r", OrgRoles.Name(role)), ("o", org), ("u", user.UserId));
        audit.Record(actor.Actor, org, "member_update", email, client, n == 1 ? "ok" : "not_found");
        if (n == 0) throw new AuthException(AuthErrorKind.NotFound, $"'{email}' is not a member of '{org}'");
        cache.Forget(p => p.UserId == user!.UserId);
        return new MemberInfo(email, role, user!.IsRoot);
    }

    public async Task RemoveMemberAsync(Principal actor, string org, string email, string client, CancellationToken ct)
    {
        email = Email(email);
        var user = await auth.UserByEmailAsync(email, ct);
        var n = user is null ? 0 : await Store.ExecuteAsync("DELETE FROM org_members WHERE org = @o AND user_id = @u",
            ct,
            ("o", org), ("u", user.UserId));
        audit.Record(actor.Actor, org, "member_remove", email, client, n == 1 ? "ok" : "not_found");
        if (n == 0) throw new AuthException(AuthErrorKind.NotFound, $"'{email}' is not a member of '{org}'");
        cache.Forget(p => p.UserId == user!.UserId);
    }

    private async Task RequireOrgAsync(string org, CancellationToken ct)
    {
        if (await GetAsync(org, ct) is null) throw new AuthException(AuthErrorKind.NotFound, $"no org '{org}'");
    }

    /// <summary>An email as stored: trimmed, lowercased, with one '@' and no more than 320 characters.</summary>
    public static string Email(string email)
    {
        email = email.Trim().ToLowerInvariant();
        var at = email.IndexOf('@');
        if (email.Length is 0 or > 320 || at <= 0 || at != email.LastIndexOf('@') || at == email.Length - 1
            || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == ':'))
            throw new AuthException(AuthErrorKind.Invalid, $"'{email}' is not an email address");
        return email;
    }

    private static string Name(string name)
    {
        name = name.Trim();
        if (name.Length is 0 or > 256 || name.Any(char.IsControl))
            throw new AuthException(AuthErrorKind.Invalid, "an org's display name has 1 to 256 printable characters");
        return name;
    }

    private Task<List<OrgInfo>> OrgsAsync(string sql, CancellationToken ct, params (string, object?)[] args) =>
        Store.ReadAsync(sql, r => new OrgInfo(r.GetString(0), r.GetString(1), Convert.ToInt64(r.GetValue(2))), ct,
            args);
}
