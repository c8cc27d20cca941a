using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DuckDB.NET.Data;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// Merges data files of one partition into one: DuckDB reads the inputs' Parquet (columns united by name), sorts
/// the rows by <c>_timestamp</c> and writes them as the flush does; the index sidecar is built from the output's
/// own rows (row number = doc id), not from the WAL. The output's id derives from the inputs' ids, so a merge redone
/// after a crash overwrites the same objects. Nothing is committed here: the caller swaps the files.
/// </summary>
public sealed class PartitionMerger : IDisposable
{
    private readonly IObjectStore _store;
    private readonly LiveSettings<IngestSettings> _ingest;
    private readonly string _scratch;
    private readonly string? _localRoot;
    private readonly Lazy<DuckDBConnection> _root;

    /// <param name="scratch">Inputs downloaded and the output written here (DuckDB may touch nothing else but a
    /// local store).</param>
    public PartitionMerger(IObjectStore store, LiveSettings<IngestSettings> ingest, string scratch)
    {
        _store = store;
        _ingest = ingest;
        _scratch = Path.GetFullPath(scratch) + "/";
        if (Directory.Exists(_scratch)) Directory.Delete(_scratch, recursive: true); // left by a crash mid-merge
        Directory.CreateDirectory(_scratch);
        _localRoot = LocalObjectStore.RootOf(store) is { } root ? Path.GetFullPath(root) + "/" : null;
        _root = new Lazy<DuckDBConnection>(Open);
    }

    private DuckDBConnection Open()
    {
        var root = new DuckDBConnection("DataSource=:memory:");
        root.Open();
        var allowed = _localRoot is null
            ? DuckSql.Literal(_scratch)
            : $"{DuckSql.Literal(_scratch)}, {DuckSql.Literal(_localRoot)}";
        using var cmd = root.CreateCommand();
        // One thread: compaction runs beside ingest and queries, and its throughput is judged per core. 3 GB lets a
        // day's 170 MB of Parquet sort in memory (1 GB spilled: 14.7 s against 9.3 s for the 2M-record bench day);
        // DuckDB takes only what the sort needs.
        cmd.CommandText = $"""
            SET autoinstall_known_extensions = false;
            SET autoload_known_extensions = false;
            SET preserve_insertion_order = true;
            SET threads = 1;
            SET memory_limit = '3GB';
            SET temp_directory = {DuckSql.Literal(_scratch + "spill")};
            SET allowed_directories = [{allowed}];
            SET enable_external_access = false;
            SET lock_configuration = true;
            """;
        cmd.ExecuteNonQuery();
        return root;
    }

    /// <summary>The merged file's id: the same inputs always give the same id (and so the same object keys).</summary>
    public static string MergedId(IEnumerable<FileMeta> inputs)
    {
        var joined = string.Join('\n', inputs.Select(f => f.FileId).Order(StringComparer.Ordinal));
        return "c" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)))[..24];
    }

    /// <summary>Writes the merged file and its sidecar to the store and returns its FileMeta (not yet
    /// committed).</summary>
    public async Task<FileMeta> MergeAsync(PartitionKey p, IReadOnlyList<FileMeta> inputs, CancellationToken ct)
    {
        var id = MergedId(inputs);
        var prefix = ObjectKey.DataFile(p.Stream, Partitions.DayName(p.Day), id);
        var dir = Path.Combine(_scratch, id);
        Directory.CreateDirectory(dir);
        try
        {
            var paths = new List<string>();
            for (var i = 0; i < inputs.Count; i++)
                paths.Add(await LocalPathAsync(inputs[i], Path.Combine(dir, $"{i}.parquet"), ct));
            var output = Path.Combine(dir, "merged.parquet");
            var clock = Stopwatch.StartNew();
            // Every data file is sorted by _timestamp; inputs that follow one another in time need no sort, their
            // rows are concatenated in order (one DuckDB thread, insertion order kept).
            var disjoint = true;
            for (var i = 1; i < inputs.Count; i++) disjoint &= inputs[i - 1].MaxTs <= inputs[i].MinTs;
            var set = await Task.Run(() => Write(paths, output, sort: !disjoint), ct);
            CompactionMetrics.StageSeconds.WithLabels("sort_write").Inc(clock.Elapsed.TotalSeconds);
            clock.Restart();
            var s = _ingest.Current;
            var order = new int[set.Rows];
            for (var i = 0; i < order.Length; i++) order[i] = i;
            var sidecar = IndexSidecar.Build(set, order, 0, set.Rows, s.TextFields, s.IdFields);
            CompactionMetrics.StageSeconds.WithLabels("index").Inc(clock.Elapsed.TotalSeconds);
            clock.Restart();
            var length = new FileInfo(output).Length;
            await _store.PutAsync(prefix + ".idx", sidecar, ct);
            await _store.PutFileAsync(prefix + ".parquet", output, ct);
            CompactionMetrics.StageSeconds.WithLabels("upload").Inc(clock.Elapsed.TotalSeconds);
            var runs = WalRanges.Union(inputs);
            return new FileMeta(id, prefix + ".parquet", prefix + ".idx", inputs.Min(f => f.MinTs),
                inputs.Max(f => f.MaxTs),
                set.Rows, inputs.Sum(f => f.OriginalBytes), length, sidecar.Length, runs[0].Start, runs[^1].End,
                WalRanges.Format(runs));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public async Task DeleteObjectsAsync(FileMeta f, CancellationToken ct)
    {
        await _store.DeleteAsync(f.ObjectKey, ct);
        await _store.DeleteAsync(f.IndexKey, ct);
    }

    private async Task<string> LocalPathAsync(FileMeta f, string download, CancellationToken ct)
    {
        if (_localRoot is not null) return Path.Combine(_localRoot, f.ObjectKey);
        var bytes = await _store.GetAsync(f.ObjectKey, ct)
                    ?? throw new FileNotFoundException($"object {f.ObjectKey} is missing from the store");
        await File.WriteAllBytesAsync(download, bytes, ct);
        return download;
    }

    /// <summary>The inputs' rows into <paramref name="output"/>, sorted by _timestamp when <paramref name="sort"/>
    /// (else they are already, file after file); returns its indexable text columns, in row order.</summary>
    private ColumnSet Write(List<string> inputs, string output, bool sort)
    {
        using var conn = Connect();
        var files = "[" + string.Join(", ", inputs.Select(DuckSql.Literal)) + "]";
        Exec(conn, "COPY (SELECT _timestamp, * EXCLUDE (_timestamp) " +
                   $"FROM read_parquet({files}, union_by_name = true)" + (sort ? " ORDER BY _timestamp" : "") +
                   $") TO {DuckSql.Literal(output)} ({ParquetEncoder.CopyOptions})");
        var s = _ingest.Current;
        var text = new List<string>();
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = $"SELECT name FROM parquet_schema({DuckSql.Literal(output)}) WHERE type = 'BYTE_ARRAY'";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                if (r.GetString(0) is var name && (s.TextFields.Matches(name) || s.IdFields.Matches(name)))
                    text.Add(name);
        }
        long rows;
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = $"SELECT num_rows FROM parquet_file_metadata({DuckSql.Literal(output)})";
            rows = Convert.ToInt64(cmd.ExecuteScalar());
        }
        var columns = text.Select(n => new Column(n, FieldKind.Utf8, checked((int)rows))).ToArray();
        if (columns.Length > 0)
        {
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT {string.Join(", ", text.Select(DuckSql.Identifier))} " +
                              $"FROM read_parquet({DuckSql.Literal(output)})";
            using var r = cmd.ExecuteReader();
            var arena = new Utf8Arena();
            for (var row = 0; r.Read(); row++)
                for (var c = 0; c < columns.Length; c++)
                    if (!r.IsDBNull(c)) columns[c].Strings![row] = arena.Add(r.GetString(c));
        }
        return new ColumnSet(new long[rows], columns);
    }

    private DuckDBConnection Connect() => DuckSql.Connect(_root.Value);

    private static void Exec(DuckDBConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (_root.IsValueCreated) _root.Value.Dispose();
    }

    /// <summary>Text values as UTF-8 in large shared blocks: one allocation per 4 MiB, not one per value.</summary>
    private sealed class Utf8Arena
    {
        private const int BlockBytes = 4 << 20;
        private byte[] _block = new byte[BlockBytes];
        private int _used;

        public ReadOnlyMemory<byte> Add(string value)
        {
            var n = Encoding.UTF8.GetByteCount(value);
            if (n > BlockBytes) return Encoding.UTF8.GetBytes(value);
            if (_used + n > BlockBytes)
            {
                _block = new byte[BlockBytes];
                _used = 0;
            }
            Encoding.UTF8.GetBytes(value, _block.AsSpan(_used));
            var slice = _block.AsMemory(_used, n);
            _used += n;
            return slice;
        }
    }
}
