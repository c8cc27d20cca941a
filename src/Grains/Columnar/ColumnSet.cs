using System.Buffers.Text;
using System.Globalization;
using System.Text;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Columnar;

/// <summary>One typed column; values are null where a record lacks the field.</summary>
public sealed class Column(string name, FieldKind kind, int rows)
{
    public string Name { get; } = name;
    public FieldKind Kind { get; } = kind;
    public long?[]? Longs { get; } = kind == FieldKind.Int64 ? new long?[rows] : null;
    public double?[]? Doubles { get; } = kind == FieldKind.Float64 ? new double?[rows] : null;
    public bool?[]? Bools { get; } = kind == FieldKind.Bool ? new bool?[rows] : null;
    /// <summary>Text values (UTF-8) as slices of the batches' payloads: no copy, and no string per value.</summary>
    public ReadOnlyMemory<byte>?[]? Strings { get; } = kind == FieldKind.Utf8 ? new ReadOnlyMemory<byte>?[rows] : null;
}

/// <summary>
/// Batches' columns (<see cref="BatchPayload"/>) typed under the stream's schema (a value is coerced to its field's
/// widened kind: int to float, anything to text, which keeps a number's JSON spelling). Row order is the
/// batches' order until <see cref="SortedOrder"/>.
/// </summary>
public sealed class ColumnSet
{
    public ColumnSet(IReadOnlyList<IngestBatch> batches, IReadOnlyList<(string Name, FieldKind Kind)> schema)
    {
        Rows = batches.Sum(b => b.Count);
        Timestamps = new long[Rows];
        Columns = schema.Where(f => f.Name != "_timestamp").Select(f => new Column(f.Name, f.Kind, Rows)).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Columns.Length; i++) index[Columns[i].Name] = i;
        var byName = index.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> name = stackalloc char[512];
        var rowBase = 0;
        foreach (var b in batches)
        {
            var reader = new BatchPayload.Reader(b.Payload);
            reader.Timestamps.CopyTo(Timestamps.AsSpan(rowBase));
            while (reader.Next(out var cells))
            {
                var n = Encoding.UTF8.GetChars(cells.Name, name);
                if (byName.TryGetValue(name[..n], out var c)) Fill(Columns[c], rowBase, cells, b.Payload);
            }
            rowBase += reader.RowCount;
        }
    }

    /// <summary>Columns filled by the caller (a merge reading rows back from Parquet).</summary>
    public ColumnSet(long[] timestamps, Column[] columns)
    {
        Rows = timestamps.Length;
        Timestamps = timestamps;
        Columns = columns;
    }

    public int Rows { get; }

    public long[] Timestamps { get; }

    public Column[] Columns { get; }

    private static void Fill(Column col, int rowBase, BatchPayload.Column cells, byte[] payload)
    {
        var rows = cells.Rows;
        var ends = cells.Ends;
        var data = payload.AsSpan(cells.DataOffset);
        var start = 0;
        for (var k = 0; k < rows.Length; k++)
        {
            var value = data[start..ends[k]];
            var row = rowBase + rows[k];
            switch (col.Kind)
            {
                case FieldKind.Int64:
                    if (Utf8Parser.TryParse(value, out long l, out var used) && used == value.Length) col.Longs![row] = l;
                    break;
                case FieldKind.Float64:
                    if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) col.Doubles![row] = d;
                    break;
                case FieldKind.Bool:
                    col.Bools![row] = value.SequenceEqual("true"u8);
                    break;
                default:
                    col.Strings![row] = payload.AsMemory(cells.DataOffset + start, value.Length);
                    break;
            }
            start = ends[k];
        }
    }

    /// <summary>Row numbers ordered by <c>_timestamp</c>.</summary>
    public int[] SortedOrder()
    {
        var keys = (long[])Timestamps.Clone();
        var order = new int[Rows];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(keys, order);
        return order;
    }
}
