using DuckDB.NET.Data;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// Rows of a <see cref="ColumnSet"/> (a range of a sorted order) to one Parquet file, written by DuckDB's own
/// writer from Arrow batches: Parquet v2 encodings (delta for integers and text lengths, dictionary where it pays,
/// byte-stream-split for doubles), zstd level 1 (as small as level 3 here, at less CPU), several pages per column
/// chunk, row groups of <see cref="RowGroupRows"/>. Against Parquet.Net's files of the same 2 M rows: 4% smaller,
/// DuckDB scans them 1.2-2x faster, and the encoding takes no more CPU.
/// Row order is kept (so a row's number is its index-sidecar doc id).
/// A column with more than <see cref="DictionaryLimit"/> values in a row group is written without a dictionary
/// (about 30 rows a value or fewer: the dictionary hardly shrinks it, and building one hashes every value), and
/// no Parquet bloom filters are written: DuckDB writes them for dictionary columns only, whose few values every
/// row group holds, and the index sidecar has blooms for the id fields. On genlogs that cut the encoding's CPU by
/// ~10% with files the same size.
/// </summary>
public sealed class ParquetEncoder : IDisposable
{
    public const int RowGroupRows = 64 * 1024;
    public const int DictionaryLimit = 2000;

    /// <summary>The options of DuckDB's <c>COPY ... TO</c> that every data file is written with.</summary>
    public static readonly string CopyOptions =
        $"FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION V2, ROW_GROUP_SIZE {RowGroupRows}, " +
        $"DICTIONARY_SIZE_LIMIT {DictionaryLimit}, WRITE_BLOOM_FILTER false";
    private readonly Lazy<DuckDBConnection> _root;
    private readonly string _scratch;
    private readonly int _threads;

    /// <param name="scratch">Where DuckDB writes each file before a put moves it into the object store (the only directory it may touch).</param>
    /// <param name="flushParallelism">Files encoded at once on the node: DuckDB gets the cores' share of one of them,
    /// as its own threads on top of parallel flushes only contend (on 2 cores with 4 flushes, one thread: 3% less
    /// ingest CPU than DuckDB's default of a thread per core, six paired runs).</param>
    public ParquetEncoder(string scratch, int flushParallelism = 1)
    {
        _threads = Math.Max(1, Environment.ProcessorCount / Math.Max(1, flushParallelism));
        _scratch = Path.GetFullPath(scratch) + "/";
        Directory.CreateDirectory(_scratch);
        foreach (var stale in Directory.EnumerateFiles(_scratch)) File.Delete(stale); // left by a crash mid-write
        _root = new Lazy<DuckDBConnection>(Open); // a node that never flushes (a querier) never pays for it
    }

    private DuckDBConnection Open()
    {
        var root = new DuckDBConnection("DataSource=:memory:");
        root.Open();
        using var cmd = root.CreateCommand();
        cmd.CommandText = $"""
            SET autoinstall_known_extensions = false;
            SET autoload_known_extensions = false;
            SET preserve_insertion_order = true;
            SET threads = {_threads};
            SET allowed_directories = [{DuckSql.Literal(_scratch)}];
            SET enable_external_access = false;
            SET lock_configuration = true;
            """;
        cmd.ExecuteNonQuery();
        return root;
    }

    /// <summary>Writes the rows to a scratch file, which the caller hands on (an object store put uses it up) and disposes.</summary>
    public async Task<ScratchFile> EncodeAsync(ColumnSet set, int[] order, int from, int to, CancellationToken ct = default)
    {
        var file = new ScratchFile(Path.Combine(_scratch, Guid.NewGuid().ToString("N") + ".parquet"));
        var view = "__ms_rows_" + Guid.NewGuid().ToString("N");
        try
        {
            using (var conn = Connect())
            using (ArrowImport.Register(conn, view, new SortedBatches(set, order, from, to, RowGroupRows)))
            using (var cmd = conn.CreateCommand())
            {
                cmd.CommandText = $"COPY (SELECT * FROM {view}) TO {DuckSql.Literal(file.Path)} ({CopyOptions}); " +
                                  $"DROP VIEW {view}";
                await Task.Run(cmd.ExecuteNonQuery, ct);
            }
            file.Length = new FileInfo(file.Path).Length;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private DuckDBConnection Connect() => DuckSql.Connect(_root.Value);

    public void Dispose()
    {
        if (_root.IsValueCreated) _root.Value.Dispose();
    }
}

/// <summary>An encoded file in the encoder's scratch directory; deleted on dispose unless a put moved it away.</summary>
public sealed class ScratchFile(string path) : IDisposable
{
    public string Path { get; } = path;

    public long Length { get; internal set; }

    public void Dispose()
    {
        try { File.Delete(Path); } catch (IOException) { } // a later start clears the directory anyway
    }
}
