using MoleSignal.Grains.Metadata;

namespace MoleSignal.Tests.Metadata;

public abstract class MigrationContract
{
    protected abstract Task<MetaStore> OpenStoreAsync();

    [Fact]
    public async Task Migrations_apply_once_and_are_recorded()
    {
        await using var store = await OpenStoreAsync();
        var expected = MigrationRunner.Embedded(store.Dialect).Select(m => m.Version).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, await MigrationRunner.ApplyAsync(store));
        Assert.Empty(await MigrationRunner.ApplyAsync(store));
        Assert.Equal((long)expected.Count, Convert.ToInt64(await store.ScalarAsync("SELECT COUNT(*) FROM schema_migrations")));
    }

    [Fact]
    public async Task Cluster_nodes_has_the_spec_columns_and_upserts_by_node_id()
    {
        await using var store = await OpenStoreAsync();
        await MigrationRunner.ApplyAsync(store);
        const string upsert = """
            INSERT INTO cluster_nodes (node_id, role, advertise_addr, started_at_micros, last_heartbeat_at_micros)
            VALUES (@id, @role, @addr, @s, @h)
            ON CONFLICT (node_id) DO UPDATE SET last_heartbeat_at_micros = excluded.last_heartbeat_at_micros
            """;
        await store.ExecuteAsync(upsert, default, ("id", "n1"), ("role", "ingester"), ("addr", "127.0.0.1:5082"), ("s", 1L), ("h", 2L));
        await store.ExecuteAsync(upsert, default, ("id", "n1"), ("role", "ingester"), ("addr", "127.0.0.1:5082"), ("s", 1L), ("h", 3L));
        Assert.Equal(3L, Convert.ToInt64(await store.ScalarAsync("SELECT last_heartbeat_at_micros FROM cluster_nodes WHERE node_id = 'n1'")));
    }
}

public sealed class SqliteMigrationTests : MigrationContract, IDisposable
{
    private readonly TempDir _dir = new();

    protected override Task<MetaStore> OpenStoreAsync() => Task.FromResult(MetaStore.Sqlite(_dir.Combine("sub", "meta.db")));

    [Fact]
    public void Both_dialects_carry_the_same_migrations()
    {
        Assert.Equal(
            MigrationRunner.Embedded(MetaDialect.Sqlite).Select(m => (m.Version, m.Name)),
            MigrationRunner.Embedded(MetaDialect.Postgres).Select(m => (m.Version, m.Name)));
    }

    public void Dispose() => _dir.Dispose();
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresMigrationTests(PostgresServer pg) : MigrationContract
{
    protected override async Task<MetaStore> OpenStoreAsync() => MetaStore.Postgres(pg.Dsn(await pg.CreateDatabaseAsync()), 4);

    [Fact]
    public async Task Nodes_starting_together_apply_each_migration_once()
    {
        var db = await pg.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => MetaStore.Postgres(pg.Dsn(db), 4)).ToList();
        var applied = await Task.WhenAll(stores.Select(s => MigrationRunner.ApplyAsync(s)));
        Assert.Equal(MigrationRunner.Embedded(MetaDialect.Postgres).Select(m => m.Version), applied.SelectMany(a => a).Order());
        foreach (var s in stores) await s.DisposeAsync();
    }

    [Theory]
    [InlineData("postgres://postgres:secret@127.0.0.1:{port}/postgres")]
    [InlineData("postgresql://postgres:secret@127.0.0.1:{port}/postgres?sslmode=disable")]
    [InlineData("Host=127.0.0.1;Port={port};Username=postgres;Password=secret;Database=postgres")]
    public async Task Both_dsn_forms_connect(string dsn)
    {
        await using var store = MetaStore.Postgres(dsn.Replace("{port}", pg.Port.ToString()), 2);
        Assert.Equal(1, Convert.ToInt32(await store.ScalarAsync("SELECT 1")));
    }
}

public sealed class PostgresDsnTests
{
    [Fact]
    public void Url_form_maps_every_part_and_decodes_escapes()
    {
        var b = PostgresDsn.Parse("postgres://mole%40x:p%3Ass@db.example:6543/meta?sslmode=require&application_name=ms");
        Assert.Equal("db.example", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("mole@x", b.Username);
        Assert.Equal("p:ss", b.Password);
        Assert.Equal("meta", b.Database);
        Assert.Equal(Npgsql.SslMode.Require, b.SslMode);
        Assert.Equal("ms", b.ApplicationName);
    }

    [Theory]
    [InlineData("postgres://")]
    [InlineData("postgres://h/db?nosuchparam=1")]
    [InlineData("Hots=x")]
    public void Bad_dsn_is_a_format_error(string dsn) => Assert.Throws<FormatException>(() => PostgresDsn.Parse(dsn));
}
