using System.Runtime.InteropServices;
using Apache.Arrow.C;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Loads Arrow IPC streams into a TEMP table of a DuckDB connection through the C data interface
/// (<c>duckdb_arrow_scan</c>; DuckDB.NET has Arrow out but not in). The scan view DuckDB makes is one-pass, so
/// each chunk is copied into the table at once and the view dropped.
/// </summary>
public static partial class ArrowImport
{
    private const string ScanView = "__ms_arrow_in";

    /// <summary>Appends the chunk's rows to <paramref name="table"/>, creating it from the first chunk's schema.</summary>
    public static unsafe void Append(DuckDBConnection conn, string table, byte[] arrowIpc, bool create)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(arrowIpc, writable: false));
        var stream = CArrowArrayStream.Create();
        try
        {
            CArrowArrayStreamExporter.ExportArrayStream(reader, stream);
            if (duckdb_arrow_scan(conn.NativeConnection.DangerousGetHandle(), ScanView, (IntPtr)stream) != 0)
                throw new InvalidOperationException("DuckDB could not scan an Arrow stream");
            using var cmd = conn.CreateCommand();
            cmd.CommandText = (create
                ? $"CREATE TEMP TABLE {QueryService.Quote(table)} AS SELECT * FROM {ScanView}"
                : $"INSERT INTO {QueryService.Quote(table)} SELECT * FROM {ScanView}") + $"; DROP VIEW {ScanView}";
            cmd.ExecuteNonQuery();
        }
        finally
        {
            CArrowArrayStream.Free(stream);
        }
    }

    [LibraryImport("duckdb", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int duckdb_arrow_scan(IntPtr connection, string tableName, IntPtr arrow);
}
