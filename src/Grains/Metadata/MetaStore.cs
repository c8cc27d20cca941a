using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MoleSignal.Grains.Metadata;

public enum MetaDialect { Sqlite, Postgres }

/// <summary>The metadata database: a connection source and its dialect. Tables come from <see
/// cref="MigrationRunner"/>.</summary>
public sealed class MetaStore : IAsyncDisposable
{
    private MetaStore(MetaDialect dialect, DbDataSource source, string description)
    {
        Dialect = dialect;
        DataSource = source;
        Description = description;
    }

    public MetaDialect Dialect { get; }

    public DbDataSource DataSource { get; }

    /// <summary>
    /// Orleans membership's own small pool on the same Postgres: a flood of metadata reads (queries, flushes)
    /// must never keep a silo from renewing its membership row, or the cluster declares it dead.
    /// </summary>
    public DbDataSource? MembershipDataSource { get; private init; }

    public const int MembershipPoolSize = 4;

    /// <summary>Where it points, without credentials (for logs).</summary>
    public string Description { get; }

    public static MetaStore Postgres(string dsn, int maxConnections)
    {
        var builder = PostgresDsn.Parse(dsn);
        builder.MaxPoolSize = maxConnections;
        var description = $"postgres {builder.Host}:{builder.Port}/{builder.Database}";
        var membership = new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            MaxPoolSize = MembershipPoolSize, ApplicationName = "molesignal-membership",
        };
        return new MetaStore(MetaDialect.Postgres, NpgsqlDataSource.Create(builder), description)
        {
            MembershipDataSource = NpgsqlDataSource.Create(membership),
        };
    }

    /// <param name="path">A file path, or a full SQLite connection string (containing '=').</param>
    public static MetaStore Sqlite(string path)
    {
        SqliteConnectionStringBuilder builder;
        if (path.Contains('='))
        {
            builder = new SqliteConnectionStringBuilder(path);
        }
        else
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            builder = new SqliteConnectionStringBuilder { DataSource = full };
        }
        builder.Pooling = true;
        builder.DefaultTimeout = 30; // also the busy timeout while another connection writes
        return new MetaStore(MetaDialect.Sqlite, SqliteFactory.Instance.CreateDataSource(builder.ConnectionString),
            $"sqlite {builder.DataSource}");
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        var conn = await DataSource.OpenConnectionAsync(ct);
        return conn;
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken ct = default, params (string Name,
        object? Value)[] args)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = Command(conn, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken ct = default, params (string Name,
        object? Value)[] args)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = Command(conn, sql, args);
        var v = await cmd.ExecuteScalarAsync(ct);
        return v is DBNull ? null : v;
    }

    /// <summary>Every row of a query, each mapped by <paramref name="map"/>.</summary>
    public async Task<List<T>> ReadAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct = default,
        params (string Name, object? Value)[] args)
    {
        var list = new List<T>();
        await using var conn = await OpenAsync(ct);
        await using var cmd = Command(conn, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }

    /// <summary>A statement on an open connection, in <paramref name="tx"/> when given; the rows it changed.
    /// </summary>
    public static async Task<int> ExecuteInAsync(DbConnection conn, DbTransaction? tx, string sql,
        CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var cmd = Command(conn, sql, args);
        cmd.Transaction = tx;
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public static DbCommand Command(DbConnection conn, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    public async ValueTask DisposeAsync()
    {
        if (MembershipDataSource is not null) await MembershipDataSource.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}
