using System.Security.Cryptography;
using System.Text;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Auth;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Secrets;

/// <summary>
/// <c>cipher_keys</c>: each secret sealed (AES-256-GCM) under its own random data key, the data key sealed under
/// the master key; both bound to the row's id and org, so a row copied elsewhere does not open. Rotation
/// re-wraps only the data keys.
/// </summary>
public sealed class SecretStore(MetaStore store, MasterKey master, IAuditLog audit, TimeProvider clock) : ISecretStore
{
    public const int MaxSecretsPerOrg = 1000, MaxValueBytes = 64 * 1024;

    public async Task<SecretInfo> PutAsync(Principal actor, string org, string name, string value, string client,
        CancellationToken ct)
    {
        name = name.Trim();
        if (name.Length is 0 or > 128 || name.Any(char.IsControl))
            throw new AuthException(AuthErrorKind.Invalid, "a secret's name has 1 to 128 printable characters");
        var plain = Encoding.UTF8.GetBytes(value);
        if (plain.Length > MaxValueBytes) throw new AuthException(AuthErrorKind.Invalid,
            $"a secret holds at most {MaxValueBytes} bytes");
        if (Convert.ToInt64(await store.ScalarAsync("SELECT COUNT(*) FROM cipher_keys WHERE org = @o", ct, ("o",
            org))) >= MaxSecretsPerOrg)
            throw new AuthException(AuthErrorKind.LimitReached, $"at most {MaxSecretsPerOrg} secrets per org");
        var id = AuthStore.NewId();
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var context = Context(org, id);
        var now = Clock.NowMicros(clock);
        var n = await store.ExecuteAsync("""
            INSERT INTO cipher_keys (id, org, name, key_id, wrapped_key, sealed_value, created_at_micros)
            VALUES (@id, @o, @n, @k, @w, @v, @t) ON CONFLICT (org, name) DO NOTHING
            """, ct, ("id", id), ("o", org), ("n", name), ("k", master.Id), ("w", MasterKey.Seal(master.Key, dataKey, context)),
            ("v", MasterKey.Seal(dataKey, plain, context)), ("t", now));
        CryptographicOperations.ZeroMemory(plain);
        audit.Record(actor.Actor, org, "secret_create", name, client, n == 1 ? "ok" : "conflict");
        if (n == 0) throw new AuthException(AuthErrorKind.Conflict, $"a secret named '{name}' exists in '{org}'");
        return new SecretInfo(id, name, now);
    }

    public async Task<IReadOnlyList<SecretInfo>> ListAsync(string org, CancellationToken ct) =>
        await store.ReadAsync("SELECT id, name, created_at_micros FROM cipher_keys WHERE org = @o ORDER BY name",
            r => new SecretInfo(r.GetString(0), r.GetString(1), Convert.ToInt64(r.GetValue(2))), ct, ("o", org));

    public async Task DeleteAsync(Principal actor, string org, string id, string client, CancellationToken ct)
    {
        var n = await store.ExecuteAsync("DELETE FROM cipher_keys WHERE org = @o AND id = @id", ct, ("o", org), ("id",
            id));
        audit.Record(actor.Actor, org, "secret_delete", id, client, n == 1 ? "ok" : "not_found");
        if (n == 0) throw new AuthException(AuthErrorKind.NotFound, $"no secret '{id}' in '{org}'");
    }

    public async Task<string?> RevealAsync(string org, string reference, CancellationToken ct)
    {
        if (reference.StartsWith(SecretReferences.EnvPrefix, StringComparison.Ordinal))
            return Environment.GetEnvironmentVariable(reference[SecretReferences.EnvPrefix.Length..]);
        if (!reference.StartsWith(SecretReferences.CipherKeysPrefix, StringComparison.Ordinal)) return null;
        var id = reference[SecretReferences.CipherKeysPrefix.Length..];
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn,
            "SELECT key_id, wrapped_key, sealed_value FROM cipher_keys WHERE org = @o AND id = @id", ("o", org),
                ("id", id));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        if (r.GetString(0) != master.Id)
            throw new CryptographicException($"secret {id} is sealed under key {r.GetString(0)}, not the configured {master.Id}");
        var context = Context(org, id);
        var dataKey = MasterKey.Open(master.Key, r.GetString(1), context);
        var plain = MasterKey.Open(dataKey, r.GetString(2), context);
        CryptographicOperations.ZeroMemory(dataKey);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Re-wraps every data key sealed under <paramref name="from"/> with <paramref name="to"/>, in one
    /// transaction.</summary>
    public static async Task<int> RotateAsync(MetaStore store, MasterKey from, MasterKey to, CancellationToken ct)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var rows = new List<(string Id, string Org, string Wrapped)>();
        await using (var cmd = MetaStore.Command(conn,
            "SELECT id, org, wrapped_key FROM cipher_keys WHERE key_id = @k", ("k", from.Id)))
        {
            cmd.Transaction = tx;
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) rows.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        }
        foreach (var (id, org, wrapped) in rows)
        {
            var context = Context(org, id);
            var dataKey = MasterKey.Open(from.Key, wrapped, context);
            await using var cmd = MetaStore.Command(conn,
                "UPDATE cipher_keys SET key_id = @k, wrapped_key = @w WHERE id = @id",
                ("k", to.Id), ("w", MasterKey.Seal(to.Key, dataKey, context)), ("id", id));
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(ct);
            CryptographicOperations.ZeroMemory(dataKey);
        }
        await tx.CommitAsync(ct);
        return rows.Count;
    }

    private static byte[] Context(string org,
        string id) => Encoding.UTF8.GetBytes("molesignal/cipher_keys/" + org + "/" + id);
}
