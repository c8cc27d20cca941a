using System.Data.Common;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Auth;

public sealed record UserRow(string UserId, string Email, string PasswordHash, bool IsRoot, int TokenVersion);

public sealed record TokenRow(
    string TokenId, string Name, string? UserId, string? Org, OrgRole? Role, string SecretHash,
    long CreatedAtMicros, long? ExpiresAtMicros, long? RevokedAtMicros);

/// <summary>The <c>users</c>, <c>org_members</c> and <c>api_tokens</c> tables.</summary>
public sealed class AuthStore(MetaStore store)
{
    public MetaStore Meta => store;

    private const string UserColumns = "user_id, email, password_hash, is_root, token_version";

    public async Task<UserRow?> UserByEmailAsync(string email, CancellationToken ct) =>
        (await UsersAsync($"SELECT {UserColumns} FROM users WHERE email = @e", ct, ("e", email))).FirstOrDefault();

    public async Task<UserRow?> UserByIdAsync(string id, CancellationToken ct) =>
        (await UsersAsync($"SELECT {UserColumns} FROM users WHERE user_id = @id", ct, ("id", id))).FirstOrDefault();

    public async Task<bool> AnyRootAsync(CancellationToken ct) =>
        Convert.ToInt64(await store.ScalarAsync("SELECT COUNT(*) FROM users WHERE is_root = 1", ct)) > 0;

    public static string NewId()
        => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    /// <summary>False when the email is taken.</summary>
    public async Task<bool> InsertUserAsync(UserRow user, long now, CancellationToken ct, DbConnection? conn = null)
    {
        const string sql = """
            INSERT INTO users (user_id, email, password_hash, is_root, token_version, created_at_micros)
            VALUES (@id, @e, @h, @r, 0, @now) ON CONFLICT (email) DO NOTHING
            """;
        (string, object?)[] args = [("id", user.UserId), ("e", user.Email), ("h", user.PasswordHash), ("r",
            user.IsRoot ? 1 : 0), ("now", now)];
        if (conn is null) return await store.ExecuteAsync(sql, ct, args) == 1;
        await using var cmd = MetaStore.Command(conn, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Sets the hash and bumps the token version, so JWTs issued before stop working.</summary>
    public Task<int> SetPasswordAsync(string userId, string hash, CancellationToken ct) =>
        store.ExecuteAsync("UPDATE users SET password_hash = @h, token_version = token_version + 1 WHERE user_id = @id",
            ct, ("h", hash), ("id", userId));

    public async Task<IReadOnlyDictionary<string, OrgRole>> RolesAsync(string userId, CancellationToken ct)
    {
        var rows = await store.ReadAsync("SELECT org, role FROM org_members WHERE user_id = @u",
            r => (Org: r.GetString(0), Role: r.GetString(1)), ct, ("u", userId));
        var roles = new Dictionary<string, OrgRole>(StringComparer.Ordinal);
        foreach (var (org, name) in rows)
            if (OrgRoles.TryParse(name, out var role)) roles[org] = role;
        return roles;
    }

    private const string TokenColumns =
        "token_id, name, user_id, org, role, secret_hash, created_at_micros, expires_at_micros, revoked_at_micros";

    public async Task<TokenRow?> TokenAsync(string tokenId, CancellationToken ct) =>
        (await TokensAsync($"SELECT {TokenColumns} FROM api_tokens WHERE token_id = @id", ct, ("id",
            tokenId))).FirstOrDefault();

    /// <summary>Live tokens of a user, or the service tokens of an org.</summary>
    public Task<List<TokenRow>> TokensOfAsync(string? userId, string? org, CancellationToken ct) => userId is not null
        ? TokensAsync($"SELECT {TokenColumns} FROM api_tokens WHERE user_id = @u AND revoked_at_micros IS NULL ORDER BY created_at_micros", ct, ("u", userId))
        : TokensAsync($"SELECT {TokenColumns} FROM api_tokens WHERE org = @o AND user_id IS NULL AND revoked_at_micros IS NULL ORDER BY created_at_micros", ct, ("o", org));

    public async Task<bool> InsertTokenAsync(TokenRow t, CancellationToken ct) =>
        await store.ExecuteAsync($"""
            INSERT INTO api_tokens ({TokenColumns})
            VALUES (@id, @n, @u, @o, @r, @h, @c, @e, NULL) ON CONFLICT (token_id) DO NOTHING
            """, ct, ("id", t.TokenId), ("n", t.Name), ("u", t.UserId), ("o", t.Org),
            ("r", t.Role is { } role ? OrgRoles.Name(role) : null), ("h", t.SecretHash), ("c", t.CreatedAtMicros),
            ("e", t.ExpiresAtMicros)) == 1;

    public async Task<bool> RevokeTokenAsync(string tokenId, long now, CancellationToken ct) =>
        await store.ExecuteAsync("UPDATE api_tokens SET revoked_at_micros = @now WHERE token_id = @id AND revoked_at_micros IS NULL",
            ct, ("now", now), ("id", tokenId)) == 1;

    private Task<List<UserRow>> UsersAsync(string sql, CancellationToken ct, params (string, object?)[] args) =>
        store.ReadAsync(sql, r => new UserRow(r.GetString(0), r.GetString(1), r.GetString(2),
            Convert.ToInt64(r.GetValue(3)) != 0, Convert.ToInt32(r.GetValue(4))), ct, args);

    private Task<List<TokenRow>> TokensAsync(string sql, CancellationToken ct, params (string, object?)[] args) =>
        store.ReadAsync(sql, r => new TokenRow(r.GetString(0), r.GetString(1), Str(r, 2), Str(r, 3),
            !r.IsDBNull(4) && OrgRoles.TryParse(r.GetString(4), out var role) ? role : null, r.GetString(5),
            Convert.ToInt64(r.GetValue(6)), Long(r, 7), Long(r, 8)), ct, args);

    private static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static long? Long(DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToInt64(r.GetValue(i));
}
