using System.Text;
using System.Text.Json;
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
    /// <summary>Text values (UTF-8) as slices of <see cref="Text"/>'s buffers.</summary>
    public ReadOnlyMemory<byte>?[]? Strings { get; } = kind == FieldKind.Utf8 ? new ReadOnlyMemory<byte>?[rows] : null;
    public TextColumnBuffer? Text { get; } = kind == FieldKind.Utf8 ? new TextColumnBuffer() : null;
}

/// <summary>
/// Flat NDJSON batches parsed into typed columns under the stream's schema (a value is coerced to its field's
/// widened kind: int to float, anything to text). Row order is the batches' order until <see cref="SortedOrder"/>.
/// </summary>
public sealed class ColumnSet
{
    private static readonly JsonReaderOptions ReaderOptions = new() { AllowMultipleValues = true };

    public ColumnSet(IReadOnlyList<IngestBatch> batches, IReadOnlyList<(string Name, FieldKind Kind)> schema)
    {
        Rows = batches.Sum(b => b.Count);
        Timestamps = new long[Rows];
        Columns = schema.Where(f => f.Name != "_timestamp").Select(f => new Column(f.Name, f.Kind, Rows)).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Columns.Length; i++) index[Columns[i].Name] = i;
        var lookup = index.GetAlternateLookup<ReadOnlySpan<char>>();
        var nameBytes = Columns.Select(c => Encoding.UTF8.GetBytes(c.Name)).ToArray();
        // Records mostly repeat the previous record's key order: try the column at the same position first.
        var predicted = new List<int>();
        var row = 0;
        Span<char> key = stackalloc char[512];
        foreach (var b in batches)
        {
            var reader = new Utf8JsonReader(b.Records, ReaderOptions);
            while (reader.Read())
            {
                // StartObject of one record
                var position = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.ValueSpan;
                    reader.Read();
                    if (name.SequenceEqual("_timestamp"u8))
                    {
                        Timestamps[row] = reader.GetInt64();
                        continue;
                    }
                    int c;
                    if (position < predicted.Count && nameBytes[predicted[position]].AsSpan().SequenceEqual(name))
                    {
                        c = predicted[position];
                    }
                    else
                    {
                        var n = Math.Min(name.Length, key.Length);
                        for (var i = 0; i < n; i++) key[i] = (char)name[i];
                        if (!lookup.TryGetValue(key[..n], out c))
                        {
                            reader.Skip();
                            continue;
                        }
                        if (position < predicted.Count) predicted[position] = c;
                        else predicted.Add(c);
                    }
                    position++;
                    Set(Columns[c], row, ref reader);
                }
                row++;
            }
        }
    }

    public int Rows { get; }

    public long[] Timestamps { get; }

    public Column[] Columns { get; }

    private static void Set(Column col, int row, ref Utf8JsonReader r)
    {
        switch (col.Kind)
        {
            case FieldKind.Int64:
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var l)) col.Longs![row] = l;
                break;
            case FieldKind.Float64:
                if (r.TokenType == JsonTokenType.Number) col.Doubles![row] = r.GetDouble();
                break;
            case FieldKind.Bool:
                if (r.TokenType is JsonTokenType.True or JsonTokenType.False) col.Bools![row] = r.GetBoolean();
                break;
            default:
                var text = col.Text!;
                if (r.TokenType == JsonTokenType.String && r.ValueIsEscaped)
                    col.Strings![row] = text.FromEscaped(ref r);
                else // unescaped strings, and numbers or booleans in a text column (which keep their JSON spelling)
                    col.Strings![row] = text.FromUtf8(r.ValueSpan);
                break;
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
