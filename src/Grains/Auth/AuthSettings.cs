namespace MoleSignal.Grains.Auth;

/// <summary>The [auth] keys in force (a config reload replaces the record).</summary>
public sealed record AuthSettings(
    bool Enabled,
    TimeSpan JwtTtl,
    /// <summary>How long a verified credential serves without looking at the store: the bound on how late a
    /// revocation, role change or password change made on another node takes effect.</summary>
    TimeSpan TokenCacheTtl,
    int AuditRetentionDays);

/// <summary>What the bootstrap reads once from the flat environment variables.</summary>
public sealed record AuthBootstrap(
    string? RootEmail,
    string? RootPassword,
    string? JwtSecretOverride,
    string? DeprecatedJwtSecret,
    string DataDir);
