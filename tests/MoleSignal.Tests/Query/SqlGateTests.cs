using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Query;

namespace MoleSignal.Tests.Query;

/// <summary>The SQL gate on its own: what user SQL may name, and that the match_all rewrite keeps SQL what it was.</summary>
public sealed class SqlGateTests : IDisposable
{
    private readonly DuckDBConnection _conn = new("DataSource=:memory:");

    public SqlGateTests() => _conn.Open();

    public void Dispose() => _conn.Dispose();

    private SqlShape Inspect(string sql) => SqlInspector.Inspect(_conn, sql);

    /// <summary>The streams these tests have; the service refuses a name that is no stream the same way.</summary>
    private static readonly string[] Streams = ["app", "other", "metrics.cpu"];

    /// <summary>The gate as the query service applies it: the statement's rules, then its tables against the streams.</summary>
    private string Refused(string sql) =>
        Assert.Throws<QueryException>(() => SqlInspector.CheckRewritten(_conn, Inspect(sql).Sql, Streams)).Code;

    [Theory]
    [InlineData("SELECT * FROM app", "logs.app")]
    [InlineData("FROM app", "logs.app")]
    [InlineData("SELECT * FROM \"APP\"", "logs.app")]
    [InlineData("SELECT * FROM App a JOIN logs.other o ON a.x = o.x", "logs.app,logs.other")]
    [InlineData("SELECT * FROM metrics.cpu", "metrics.cpu")]
    [InlineData("WITH a AS (SELECT * FROM app), b AS (SELECT * FROM a) SELECT * FROM b", "logs.app")]
    [InlineData("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t, app", "logs.app")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM (WITH y AS (SELECT * FROM x) SELECT * FROM y)", "")]
    [InlineData("SUMMARIZE app", "logs.app")]
    [InlineData("DESCRIBE app", "logs.app")]
    [InlineData("SELECT list_transform([1, 2], x -> x + 1), * FROM app", "logs.app")]
    [InlineData("SELECT * FROM range(10) r, app", "logs.app")]
    [InlineData("SELECT 'pg_settings', \"duckdb_settings\" FROM app -- FROM pg_settings", "logs.app")]
    [InlineData("SELECT * FROM app /* UNION SELECT * FROM duckdb_settings() */", "logs.app")]
    public void Streams_ctes_and_allowed_functions_pass(string sql, string tables)
    {
        var shape = Inspect(sql);
        Assert.Equal(tables, string.Join(",", shape.Tables.Select(t => $"{t.Type}.{t.Name}")));
        SqlInspector.CheckRewritten(_conn, shape.Sql, Streams);
    }

    [Theory]
    [InlineData("SELECT * FROM pg_settings")]
    [InlineData("SELECT * FROM pg_catalog.pg_settings")]
    [InlineData("SELECT * FROM information_schema.tables")]
    [InlineData("SELECT * FROM sqlite_master")]
    [InlineData("SELECT * FROM duckdb_settings()")]
    [InlineData("SELECT * FROM duckdb_tables()")]
    [InlineData("SELECT * FROM 'data/meta.db'")]
    [InlineData("SELECT * FROM '/etc/passwd'")]
    [InlineData("SELECT * FROM read_parquet('x.parquet')")]
    [InlineData("SELECT * FROM query('SELECT 1')")]
    [InlineData("SELECT * FROM system.main.app")]
    [InlineData("SELECT * FROM temp.main.app")]
    [InlineData("SELECT * FROM acme.app")]
    [InlineData("SELECT * FROM app UNION ALL SELECT name, value FROM pg_settings")]
    [InlineData("SELECT * FROM app WHERE x IN (SELECT name FROM duckdb_settings())")]
    [InlineData("WITH pg_settings AS (SELECT * FROM pg_settings) SELECT * FROM pg_settings")] // its own name inside is the catalog's
    [InlineData("SELECT * FROM (WITH s AS (SELECT 1) SELECT * FROM s), s")] // a CTE is not visible outside its query
    [InlineData("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a")] // nor before its definition
    [InlineData("SELECT current_setting('allowed_directories')")]
    [InlineData("SELECT CURRENT_SETTING('threads')")]
    [InlineData("SELECT getenv('HOME')")]
    [InlineData("SELECT * FROM (DESCRIBE pg_settings)")]
    [InlineData("SUMMARIZE pg_settings")]
    [InlineData("SHOW TABLES")]
    public void Everything_else_is_forbidden(string sql) => Assert.Equal("forbidden", Refused(sql));

    [Theory]
    [InlineData("SET threads = 1")]
    [InlineData("PRAGMA version")]
    [InlineData("COPY (SELECT 1) TO '/tmp/x.csv'")]
    [InlineData("ATTACH 'x.db'")]
    [InlineData("CREATE MACRO m(x) AS x")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("PIVOT app ON level USING count(*)")]
    [InlineData("SELECT * FROM (PIVOT app ON level USING count(*))")] // DuckDB cannot show its AST, so it is not run
    public void Statements_other_than_one_select_are_invalid(string sql) => Assert.Equal("invalid_sql", Refused(sql));

    /// <summary>The rewrite and the second look at the rewritten statement, as the query service runs them.</summary>
    private string Rewrite(string sql)
    {
        var shape = Inspect(sql);
        var rewritten = MatchAllRewrite.Apply(shape.Sql, shape.MatchAllAt, ["message"], []);
        SqlInspector.CheckRewritten(_conn, rewritten, shape.Tables.Select(SqlInspector.ViewName).ToList());
        return rewritten;
    }

    [Fact]
    public void A_comment_inside_match_all_stays_a_comment()
    {
        // The commented-out table function must not become live SQL when the call is rewritten.
        var sql = "SELECT count(*) FROM app WHERE match_all--('a') UNION ALL SELECT count(*) FROM duckdb_settings()\n('b')";
        var rewritten = Rewrite(sql);
        // The comment went with the call it stood in; nothing of it is left to run.
        Assert.DoesNotContain("duckdb_settings", rewritten);
        Assert.DoesNotContain("match_all", rewritten);
        Assert.Empty(Inspect(rewritten).MatchAllAt);
        Assert.Contains("ILIKE '%b%'", rewritten);
    }

    [Theory]
    [InlineData("SELECT * FROM app WHERE match_all /* x */ ( /* ('z') */ 'w1 w2' -- )\n)")]
    [InlineData("SELECT * FROM app WHERE MATCH_ALL('it''s') AND level = 'match_all(''q'')'")]
    [InlineData("SELECT * FROM app WHERE match_all(lower('A' || 'b'))")]
    [InlineData("SELECT * FROM app WHERE match_all('a') OR match_all('b') -- match_all('c')")]
    public void Match_all_calls_are_rewritten_whatever_surrounds_them(string sql)
    {
        var rewritten = Rewrite(sql);
        // No call is left, and the statement still is one SELECT over the same stream.
        var again = Inspect(rewritten);
        Assert.Empty(again.MatchAllAt);
        Assert.Equal("app", Assert.Single(again.Tables).Name);
        if (sql.Contains("'match_all(''q'')'")) Assert.Contains("'match_all(''q'')'", rewritten);
    }

    [Fact]
    public void Remembered_verdicts_equal_fresh_ones_and_refusals_are_never_remembered()
    {
        const string sql = "SELECT level, count(*) FROM logs.app WHERE match_all('x') GROUP BY level";
        var first = Inspect(sql);
        var again = Inspect(sql);
        Assert.Equal(first.Sql, again.Sql);
        Assert.Equal(first.Tables, again.Tables);
        Assert.Equal(first.MatchAllAt, again.MatchAllAt);
        for (var i = 0; i < 3; i++) Assert.Equal("forbidden", Refused("SELECT * FROM pg_settings"));
        for (var i = 0; i < 3; i++)
            Assert.Throws<QueryException>(() => SqlInspector.CheckRewritten(_conn, "SELECT * FROM app", ["other"]));
    }

    [Fact]
    public void A_rewritten_statement_reading_anything_but_the_bound_views_is_refused()
    {
        Assert.Equal("forbidden", Assert.Throws<QueryException>(() =>
            SqlInspector.CheckRewritten(_conn, "SELECT * FROM app UNION ALL SELECT * FROM other", ["app"])).Code);
        Assert.Equal("forbidden", Assert.Throws<QueryException>(() =>
            SqlInspector.CheckRewritten(_conn, "SELECT * FROM app, duckdb_settings()", ["app"])).Code);
        SqlInspector.CheckRewritten(_conn, "SELECT * FROM (SELECT * FROM APP\n) AS __q LIMIT 5", ["app"]);
    }
}
