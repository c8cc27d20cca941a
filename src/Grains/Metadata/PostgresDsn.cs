using Npgsql;

namespace MoleSignal.Grains.Metadata;

/// <summary>Accepts the spec's URL form (<c>postgres://user:pass@host:5432/db?sslmode=disable</c>) and Npgsql keywords.</summary>
public static class PostgresDsn
{
    public static NpgsqlConnectionStringBuilder Parse(string dsn)
    {
        if (!dsn.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !dsn.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(dsn);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"store.meta.dsn is neither a postgres:// URL nor a valid Npgsql connection string: {e.Message}");
            }
        }
        if (!Uri.TryCreate(dsn, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new FormatException("store.meta.dsn is not a valid postgres:// URL");
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.Port > 0 ? uri.Port : 5432,
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        var db = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (db.Length > 0) b.Database = db;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                b[key.Replace('_', ' ')] = value; // sslmode, application_name, ...
            }
            catch (ArgumentException)
            {
                throw new FormatException($"store.meta.dsn has an unknown parameter '{key}'");
            }
        }
        return b;
    }
}
