using System.Security.Cryptography;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// First start of an empty metadata store: the root user (from <c>MS_ROOT_USER_EMAIL</c> /
/// <c>MS_ROOT_USER_PASSWORD</c>, else <c>root@localhost</c> with a random password written once to
/// <c>{data_dir}/initial_root_password</c>) and the JWT secret. On Postgres an advisory lock makes the nodes of a
/// cluster that start together bootstrap once.
/// </summary>
public static class AuthBootstrapper
{
    private const long AdvisoryLockId = 0x4D6F6C6541757468; // "MoleAuth"
    public const string JwtSecretName = "jwt_hs256";
    public const string DefaultRootEmail = "root@localhost";

    /// <summary>What startup tells the operator: the JWT secret, and the generated root password if one was
    /// made.</summary>
    public sealed record Result(byte[] JwtSecret, string? GeneratedPassword, string? PasswordFile,
        bool DeprecatedSecretUsed);

    public static async Task<Result> RunAsync(MetaStore meta, AuthBootstrap boot, TimeProvider clock,
        CancellationToken ct)
    {
        await using var conn = await meta.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (meta.Dialect == MetaDialect.Postgres) await Exec("SELECT pg_advisory_xact_lock(" + AdvisoryLockId + ")");
        var now = Clock.NowMicros(clock);

        string? generated = null, file = null;
        var roots = Convert.ToInt64(await Scalar("SELECT COUNT(*) FROM users WHERE is_root = 1"));
        if (roots == 0)
        {
            var email = string.IsNullOrWhiteSpace(boot.RootEmail) ? DefaultRootEmail : boot.RootEmail.Trim().ToLowerInvariant();
            var password = boot.RootPassword;
            if (string.IsNullOrEmpty(password))
            {
                password = generated = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+',
                    'x').Replace('/', 'y');
                file = Path.GetFullPath(Path.Combine(boot.DataDir, "initial_root_password"));
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                await File.WriteAllTextAsync(file, "", ct);
                if (!OperatingSystem.IsWindows())
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                await File.WriteAllTextAsync(file, email + ":" + password + "\n", ct);
            }
            var id = AuthStore.NewId();
            await Exec("""
                INSERT INTO users (user_id, email, password_hash, is_root, token_version, created_at_micros)
                VALUES (@id, @e, @h, 1, 0, @now)
                """, ("id", id), ("e", email), ("h", PasswordHasher.Hash(password)), ("now", now));
        }

        await Exec("INSERT INTO auth_secrets (name, value, created_at_micros) VALUES (@n, @v, @now) ON CONFLICT (name) DO NOTHING",
            ("n", JwtSecretName), ("v", Convert.ToBase64String(JwtService.NewSecret())), ("now", now));
        var stored = Convert.FromBase64String((string)(await Scalar("SELECT value FROM auth_secrets WHERE name = @n",
            ("n", JwtSecretName)))!);
        await tx.CommitAsync(ct);

        var secret = stored;
        var deprecated = false;
        if (!string.IsNullOrEmpty(boot.JwtSecretOverride)) secret = System.Text.Encoding.UTF8.GetBytes(boot.JwtSecretOverride);
        else if (!string.IsNullOrEmpty(boot.DeprecatedJwtSecret))
        {
            secret = System.Text.Encoding.UTF8.GetBytes(boot.DeprecatedJwtSecret);
            deprecated = true;
        }
        // HS256 wants at least 256 bits of key; a short pinned secret is stretched, never used as is.
        if (secret.Length < 32) secret = SHA256.HashData(secret);
        return new Result(secret, generated, file, deprecated);

        async Task Exec(string sql, params (string, object?)[] args)
        {
            await using var cmd = MetaStore.Command(conn, sql, args);
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(ct);
        }

        async Task<object?> Scalar(string sql, params (string, object?)[] args)
        {
            await using var cmd = MetaStore.Command(conn, sql, args);
            cmd.Transaction = tx;
            return await cmd.ExecuteScalarAsync(ct);
        }
    }
}
