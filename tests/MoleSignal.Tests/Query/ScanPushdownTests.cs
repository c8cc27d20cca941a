using DuckDB.NET.Data;
using MoleSignal.Grains.Federation;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Query;

namespace MoleSignal.Tests.Query;

/// <summary>What a statement sends to a remote cluster: its columns and its filter as SQL, or nothing it cannot
/// send (a filter the remote could not run the same way).</summary>
public sealed class ScanPushdownTests : IDisposable
{
    private readonly DuckDBConnection _conn = new("DataSource=:memory:");
    private static readonly (string Name, string Type)[] Fields =
        [("_timestamp", "int64"), ("level", "utf8"), ("message", "utf8"), ("status", "int64")];

    public ScanPushdownTests() => _conn.Open();

    public void Dispose() => _conn.Dispose();

    private (List<string>? Columns, string? Filter) Plan(string sql) =>
        ScanPushdown.RemotePlan(_conn, sql, sql, "web", Fields);

    [Theory]
    [InlineData("SELECT level, count(*) FROM web WHERE status >= 500 AND level = 'ERROR' GROUP BY 1",
        "level,status", "((status >= 500) AND (\"level\" = 'ERROR'))")]
    [InlineData("SELECT count(*) FROM web WHERE match_all('time out') OR level IN ('a', 'b')", "level",
        "(match_all('time out') OR (\"level\" IN ('a', 'b')))")]
    [InlineData("SELECT * FROM web WHERE message LIKE '%x%'", null, "(message ~~ '%x%')")]
    [InlineData("SELECT count(*) FROM web", "_timestamp", null)]
    // Only the coordinator's view has _cluster; an alias of the select list is no column of the stream.
    [InlineData("SELECT level FROM web WHERE _cluster = 'b'", "level", null)]
    [InlineData("SELECT status * 2 AS s FROM web WHERE s > 4", "status", null)]
    [InlineData("SELECT level FROM web WHERE status IN (SELECT status FROM web LIMIT 1)", "level,status", null)]
    public void Columns_and_filter(string sql, string? columns, string? filter)
    {
        var (c, f) = Plan(sql);
        Assert.Equal(columns, c is null ? null : string.Join(",", c));
        Assert.Equal(filter, f);
    }

    [Fact]
    public void The_filter_runs_as_the_remote_scans_it()
    {
        var (_, filter) = Plan("SELECT count(*) FROM web WHERE level = 'it''s' AND status BETWEEN 1 AND 3");
        var sql = StreamScanner.Sql(new StreamScan("default", "logs", "web", ["level"], filter, null, null, 5));
        Assert.Equal("SELECT \"level\" FROM \"logs\".\"web\"\n" +
                     "WHERE (((\"level\" = 'it''s') AND (status BETWEEN 1 AND 3))\n)" +
                     "\nORDER BY _timestamp DESC LIMIT 5", sql);
        var shape = SqlInspector.Inspect(_conn, sql);
        Assert.Equal([new TableRef("logs", "web")], shape.Tables);
    }
}
