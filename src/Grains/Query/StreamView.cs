namespace MoleSignal.Grains.Query;

/// <summary>
/// The SQL of a stream's view, shared by a local query and a shard of a distributed one: every schema field
/// with its current type over the union of the parts (old files may lack a field or hold it narrower; the typed
/// empty part makes every column exist), bounded by the time range.
/// </summary>
public static class StreamView
{
    /// <summary>
    /// A file the index narrowed reads only its matching rows (by <c>file_row_number</c>, which prunes row groups
    /// too); the rest one read_parquet. <c>OFFSET 0</c> keeps the statement's own filters above the row filter:
    /// pushed into the scan, a text filter would run over every row of the row group first.
    /// </summary>
    public static List<string> FileParts(IEnumerable<(string Path, long[]? Rows)> files)
    {
        var parts = new List<string>();
        var whole = new List<string>();
        foreach (var (path, rows) in files)
        {
            if (rows is null)
            {
                whole.Add(path);
                continue;
            }
            parts.Add($"SELECT * EXCLUDE (file_row_number) FROM (SELECT * FROM read_parquet({DuckSql.Literal(path)}, file_row_number = true) " +
                      $"WHERE file_row_number IN ({string.Join(", ", rows)}) OFFSET 0)");
        }
        if (whole.Count > 0)
            parts.Add($"SELECT * FROM read_parquet([{string.Join(", ", whole.Select(DuckSql.Literal))}], union_by_name = true)");
        return parts;
    }

    /// <summary>The typed union of the parts (no time bound).</summary>
    public static string Source(IReadOnlyList<(string Name, string Type)> fields, IEnumerable<string> parts)
    {
        var typedEmpty = $"SELECT {string.Join(", ", fields.Select(f => $"CAST(NULL AS {QueryService.DuckType(f.Type)}) AS {DuckSql.Identifier(f.Name)}"))} WHERE false";
        var select = string.Join(", ", fields.Select(f => $"CAST({DuckSql.Identifier(f.Name)} AS {QueryService.DuckType(f.Type)}) AS {DuckSql.Identifier(f.Name)}"));
        return $"SELECT {select} FROM ({string.Join(" UNION ALL BY NAME ", parts.Prepend(typedEmpty))})";
    }

    public static List<string> Range(long minTs, long maxTs)
    {
        var range = new List<string>();
        if (minTs > long.MinValue) range.Add($"_timestamp >= {minTs}");
        if (maxTs < long.MaxValue) range.Add($"_timestamp <= {maxTs}");
        return range;
    }

    public static string Create(string view, string source, IReadOnlyList<string> range) =>
        $"CREATE OR REPLACE TEMP VIEW {DuckSql.Identifier(view)} AS SELECT * FROM ({source})" +
        (range.Count > 0 ? " WHERE " + string.Join(" AND ", range) : "");
}
