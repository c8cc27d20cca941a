using DuckDB.NET.Data;
using MoleSignal.Grains.Federation;

namespace MoleSignal.Tests.Federation;

/// <summary>
/// A federated aggregate computed as partials per cluster and combined equals the statement over all rows at
/// once: rows of two "clusters" in one DuckDB, each partial run over its own rows, the final over their union.
/// </summary>
public sealed class PartialAggregationTests : IDisposable
{
    private readonly DuckDBConnection _conn = new("DataSource=:memory:");

    public PartialAggregationTests()
    {
        _conn.Open();
        Exec("""
            CREATE TABLE rows_local AS SELECT i AS _timestamp, ['INFO', 'WARN', 'ERROR'][i % 3 + 1] AS level,
                'svc' || (i % 4) AS service, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.5::DOUBLE END AS d,
                i % 7 AS status FROM range(1000) t(i);
            CREATE TABLE rows_b AS SELECT i AS _timestamp, ['INFO', 'DEBUG'][i % 2 + 1] AS level,
                'svc' || (i % 6) AS service, i * 0.25::DOUBLE AS d, i % 3 AS status FROM range(500, 1300) t(i);
            """);
    }

    public void Dispose() => _conn.Dispose();

    private void Exec(string sql)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private List<string> Rows(string sql)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, r.FieldCount).Select(i =>
                $"{r.GetName(i)}:{r.GetDataTypeName(i)}="
                + (r.IsDBNull(i) ? "null" : OracleValues.Normalize(r.GetValue(i))))));
        return rows;
    }

    private PartialAggregation? Plan(string sql)
    {
        Exec("CREATE OR REPLACE VIEW web AS SELECT *, 'local' AS _cluster FROM rows_local WHERE false");
        return PartialAggregation.TryPlan(_conn, sql, "web", "test");
    }

    [Theory]
    [InlineData("SELECT count(*) FROM web")]
    [InlineData("SELECT count(*) FROM web WHERE level = 'ERROR'")]
    [InlineData("SELECT service, count(*) AS c, avg(d) FROM web GROUP BY service ORDER BY c DESC, service")]
    [InlineData("SELECT _timestamp // 60 AS m, count(*) FROM web GROUP BY m ORDER BY m")]
    [InlineData("SELECT level, count(*) FROM web WHERE _timestamp >= 300 AND _timestamp < 900 " +
                "GROUP BY level ORDER BY 1")]
    [InlineData("SELECT _cluster, level, count(*), count(d), sum(d), min(service), max(d) FROM web " +
                "GROUP BY 1, 2 ORDER BY 1, 2")]
    [InlineData("SELECT count(*) FROM web WHERE _cluster = 'b' AND status > 0")]
    [InlineData("SELECT service, count(*) * 2 AS twice, round(avg(d), 3) AS a FROM web GROUP BY service " +
                "HAVING count(*) > 100 ORDER BY a DESC LIMIT 3")]
    [InlineData("SELECT level FROM web GROUP BY level ORDER BY level")]
    [InlineData("SELECT lower(level) AS l, sum(status) FROM web WHERE d IS NOT NULL GROUP BY level ORDER BY l")]
    [InlineData("SELECT count(*), avg(d) FROM web WHERE level = 'nothing'")]
    [InlineData("SELECT service, round(avg(d), 6) FROM web GROUP BY 1 ORDER BY 1")]
    [InlineData("SELECT _cluster, count(*) FROM web WHERE _cluster = 'b' GROUP BY 1 ORDER BY 1")]
    [InlineData("SELECT level, count(*) FROM web WHERE level = 'nothing' GROUP BY level")]
    public void Partials_combined_equal_the_statement_over_all_rows(string sql)
    {
        Exec("CREATE OR REPLACE VIEW web AS SELECT *, 'local' AS _cluster FROM rows_local " +
             "UNION ALL BY NAME SELECT *, 'b' AS _cluster FROM rows_b");
        var expected = Rows(sql);
        var plan = Plan(sql);
        Assert.NotNull(plan);
        Exec($"CREATE TABLE p_base AS {plan.Partial(_conn, "local", withFilter: false)}");
        foreach (var cluster in new[] { "local", "b" })
        {
            Exec($"CREATE OR REPLACE VIEW web AS SELECT * FROM rows_{cluster}");
            Exec($"CREATE TABLE p_{cluster} AS {plan.Partial(_conn, cluster)}");
        }
        Exec("CREATE OR REPLACE VIEW web AS SELECT * FROM p_base UNION ALL BY NAME SELECT * FROM p_local " +
             "UNION ALL BY NAME SELECT * FROM p_b");
        Assert.Equal(expected, Rows(plan.Final));
    }

    [Theory]
    [InlineData("SELECT * FROM web")]
    [InlineData("SELECT service FROM web WHERE status = 1")]
    [InlineData("SELECT quantile_cont(d, 0.95) FROM web")]
    [InlineData("SELECT count(DISTINCT service) FROM web")]
    [InlineData("SELECT level, count(*) FROM web GROUP BY ALL")]
    [InlineData("SELECT DISTINCT level FROM web")]
    [InlineData("SELECT level, count(*) OVER () FROM web")]
    [InlineData("SELECT count(*) FILTER (WHERE status = 1) FROM web")]
    [InlineData("SELECT level, service, count(*) FROM web GROUP BY level")]
    [InlineData("SELECT count(*) FROM web WHERE service IN (SELECT service FROM web LIMIT 1)")]
    [InlineData("SELECT level, count(*) FROM web GROUP BY GROUPING SETS ((level), ())")]
    public void Other_statements_are_scanned_row_by_row(string sql)
    {
        PartialAggregation? plan = null;
        try
        {
            plan = Plan(sql);
        }
        catch (DuckDBException)
        {
            // A statement the engine refuses over the rows is refused the same without the split.
        }
        Assert.Null(plan);
    }
}
