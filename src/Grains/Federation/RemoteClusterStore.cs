using System.Data.Common;
using System.Text.RegularExpressions;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Federation;

/// <summary>The <c>remote_clusters</c> table, and what a row must be to be stored.</summary>
public sealed partial class RemoteClusterStore(MetaStore store, TimeProvider clock) : IRemoteClusters
{
    private const string Columns =
        "name, advertise_addr, token_secret_ref, secret_org, tls_verify, enabled, updated_at_micros";

    /// <summary>The environment variables a token may be read from: no other of the server's variables (its cipher
    /// key, say) can be sent to an address the API names.</summary>
    public const string AllowedEnvPrefix = SecretReferences.EnvPrefix + "MS_FEDERATION_";

    /// <summary>Lowercase letters, digits, '_' and '-', starting with a letter or digit.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex NamePattern();

    public Task<IReadOnlyList<RemoteCluster>> ListAsync(CancellationToken ct) =>
        ReadAsync($"SELECT {Columns} FROM remote_clusters ORDER BY name", ct);

    public async Task<RemoteCluster?> GetAsync(string name, CancellationToken ct) =>
        (await ReadAsync($"SELECT {Columns} FROM remote_clusters WHERE name = @n", ct, ("n", name)))
        .FirstOrDefault();

    public async Task<RemoteCluster> PutAsync(RemoteCluster c, CancellationToken ct)
    {
        Check(c);
        var row = c with { UpdatedAtMicros = Clock.NowMicros(clock) };
        await store.ExecuteAsync($"""
            INSERT INTO remote_clusters ({Columns}) VALUES (@n, @a, @r, @o, @t, @e, @u)
            ON CONFLICT (name) DO UPDATE SET advertise_addr = excluded.advertise_addr,
                token_secret_ref = excluded.token_secret_ref, secret_org = excluded.secret_org,
                tls_verify = excluded.tls_verify, enabled = excluded.enabled,
                updated_at_micros = excluded.updated_at_micros
            """, ct, ("n", row.Name), ("a", row.AdvertiseAddr), ("r", row.TokenSecretRef), ("o", row.SecretOrg),
            ("t", (short)(row.TlsVerify ? 1 : 0)), ("e", (short)(row.Enabled ? 1 : 0)), ("u", row.UpdatedAtMicros));
        return row;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct) =>
        await store.ExecuteAsync("DELETE FROM remote_clusters WHERE name = @n", ct, ("n", name)) > 0;

    /// <summary>A name other than <c>local</c>, a <c>host:port</c> address and a secret reference (never the
    /// token itself).</summary>
    public static void Check(RemoteCluster c)
    {
        if (!NamePattern().IsMatch(c.Name) || c.Name == ClusterTargets.Local)
            throw Invalid($"'name' must be 1-64 of a-z, 0-9, '_', '-' and not '{ClusterTargets.Local}'");
        if (!Uri.TryCreate("http://" + c.AdvertiseAddr, UriKind.Absolute, out var uri)
            || uri.PathAndQuery != "/" || uri.IsDefaultPort || uri.UserInfo != "" || c.AdvertiseAddr.Contains('/'))
            throw Invalid("'advertise_addr' must be host:port (the remote cluster's gRPC port)");
        if (!c.TokenSecretRef.StartsWith(AllowedEnvPrefix, StringComparison.Ordinal)
            && !c.TokenSecretRef.StartsWith(SecretReferences.CipherKeysPrefix, StringComparison.Ordinal))
            throw Invalid($"'token_secret_ref' must be {AllowedEnvPrefix}* or " +
                          $"{SecretReferences.CipherKeysPrefix}<id>, never the token itself");
    }

    private static AuthException Invalid(string message) => new(AuthErrorKind.Invalid, message);

    private async Task<IReadOnlyList<RemoteCluster>> ReadAsync(string sql, CancellationToken ct,
        params (string, object?)[] args) =>
        await store.ReadAsync(sql, Map, ct, args);

    private static RemoteCluster Map(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        Convert.ToInt32(r.GetValue(4)) != 0, Convert.ToInt32(r.GetValue(5)) != 0, Convert.ToInt64(r.GetValue(6)),
        r.GetString(3));
}
