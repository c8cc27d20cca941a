using System.Reflection;
using System.Text.RegularExpressions;

namespace MoleSignal.Grains.Metadata;

public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Applies the embedded migrations (<c>Metadata/Migrations/{common,sqlite,postgres}/NNNN_name.sql</c>; a dialect's
/// own file replaces the common one of the same version) that
/// <c>schema_migrations</c> does not record yet, each in its own transaction. On Postgres an advisory lock keeps
/// nodes that start together from applying the same migration twice.
/// </summary>
public static partial class MigrationRunner
{
    private const long AdvisoryLockId = 0x4D6F6C655369676E; // "MoleSign"

    [GeneratedRegex(@"^migrations/(?<dialect>common|sqlite|postgres)/(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex ResourceName();

    public static IReadOnlyList<Migration> Embedded(MetaDialect dialect)
    {
        var asm = typeof(MigrationRunner).Assembly;
        var wanted = dialect == MetaDialect.Sqlite ? "sqlite" : "postgres";
        var byVersion = new Dictionary<int, Migration>();
        foreach (var res in asm.GetManifestResourceNames().Order())
        {
            var m = ResourceName().Match(res);
            var folder = m.Groups["dialect"].Value;
            if (!m.Success || (folder != wanted && folder != "common")) continue;
            var version = int.Parse(m.Groups["version"].Value);
            if (folder == "common" && byVersion.ContainsKey(version)) continue; // the dialect's own file wins
            using var reader = new StreamReader(asm.GetManifestResourceStream(res)!);
            byVersion[version] = new Migration(version, m.Groups["name"].Value, reader.ReadToEnd());
        }
        return byVersion.Values.OrderBy(m => m.Version).ToList();
    }

    /// <summary>Returns the versions applied by this call.</summary>
    public static async Task<IReadOnlyList<int>> ApplyAsync(MetaStore store, CancellationToken ct = default)
    {
        await using var conn = await store.OpenAsync(ct);
        if (store.Dialect == MetaDialect.Postgres)
            await Exec(conn, $"SELECT pg_advisory_lock({AdvisoryLockId})", ct);
        else
            await Exec(conn, "PRAGMA journal_mode=WAL", ct);
        try
        {
            await Exec(conn, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name VARCHAR(128) NOT NULL,
                    applied_at_micros BIGINT NOT NULL)
                """, ct);
            var applied = new HashSet<int>();
            await using (var cmd = MetaStore.Command(conn, "SELECT version FROM schema_migrations"))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) applied.Add(Convert.ToInt32(r.GetValue(0)));

            var done = new List<int>();
            foreach (var m in Embedded(store.Dialect).Where(m => !applied.Contains(m.Version)))
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = MetaStore.Command(conn, m.Sql)) { cmd.Transaction = tx; await cmd.ExecuteNonQueryAsync(ct); }
                await using (var cmd = MetaStore.Command(conn,
                    "INSERT INTO schema_migrations (version, name, applied_at_micros) VALUES (@v, @n, @t)",
                    ("v", m.Version), ("n", m.Name), ("t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000)))
                {
                    cmd.Transaction = tx;
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                done.Add(m.Version);
            }
            return done;
        }
        finally
        {
            if (store.Dialect == MetaDialect.Postgres)
                await Exec(conn, $"SELECT pg_advisory_unlock({AdvisoryLockId})", CancellationToken.None);
        }
    }

    private static async Task Exec(System.Data.Common.DbConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = MetaStore.Command(conn, sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
