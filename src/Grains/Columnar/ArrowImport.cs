using System.Runtime.InteropServices;
using Apache.Arrow.C;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// Arrow streams into a DuckDB connection through the C data interface (<c>duckdb_arrow_scan</c>; DuckDB.NET has
/// Arrow out but not in). The view DuckDB makes over a stream is one-pass: a second scan of it silently sees no
/// rows. So a statement that reads its stream once reads the views directly (scanning Arrow is ~5x cheaper than
/// copying it into a table first); any other statement gets the rows copied into a TEMP table.
/// </summary>
public static partial class ArrowImport
{
    /// <summary>A one-pass view over Arrow IPC bytes (in the shared catalog: give it a name unique to the
    /// call); dispose it (after the connection) once the last query over it is done.</summary>
    public static IDisposable Register(DuckDBConnection conn, string view, byte[] arrowIpc) =>
        Register(conn, view, new ArrowStreamReader(new MemoryStream(arrowIpc, writable: false)));

    /// <summary>A one-pass view over the batches of <paramref name="source"/>, which the returned handle disposes.</summary>
    public static unsafe IDisposable Register(DuckDBConnection conn, string view, IArrowArrayStream source)
    {
        var stream = CArrowArrayStream.Create();
        var handle = new Handle(source, stream);
        try
        {
            CArrowArrayStreamExporter.ExportArrayStream(source, stream);
            if (duckdb_arrow_scan(conn.NativeConnection.DangerousGetHandle(), view, (IntPtr)stream) != 0)
                throw new InvalidOperationException("DuckDB could not scan an Arrow stream");
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Appends the chunk's rows to <paramref name="table"/>, creating it from the first chunk's schema.</summary>
    public static void Append(DuckDBConnection conn, string table, byte[] arrowIpc, bool create) =>
        Append(conn, table, new ArrowStreamReader(new MemoryStream(arrowIpc, writable: false)), create);

    public static void Append(DuckDBConnection conn, string table, ReadOnlyMemory<byte> arrowIpc, bool create) =>
        Append(conn, table, new ArrowStreamReader(arrowIpc), create);

    /// <summary>Appends the batches of <paramref name="source"/> (then disposed) to <paramref name="table"/>, creating it from their schema.</summary>
    public static void Append(DuckDBConnection conn, string table, IArrowArrayStream source, bool create)
    {
        // duckdb_arrow_scan makes its view in the database's shared catalog, not the connection's TEMP one: a
        // name of its own per call, or two queries of one org appending at once conflict on it.
        var scan = "__ms_arrow_in_" + Guid.NewGuid().ToString("N");
        using var view = Register(conn, scan, source);
        using var cmd = conn.CreateCommand();
        cmd.CommandText = (create
            ? $"CREATE TEMP TABLE {DuckSql.Identifier(table)} AS SELECT * FROM {scan}"
            : $"INSERT INTO {DuckSql.Identifier(table)} SELECT * FROM {scan}") + $"; DROP VIEW {scan}";
        cmd.ExecuteNonQuery();
    }

    private sealed unsafe class Handle(IDisposable source, CArrowArrayStream* stream) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            CArrowArrayStream.Free(stream);
            source.Dispose();
        }
    }

    [LibraryImport("duckdb", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int duckdb_arrow_scan(IntPtr connection, string tableName, IntPtr arrow);
}
