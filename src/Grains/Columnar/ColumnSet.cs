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
    public string?[]? Strings { get; } = kind == FieldKind.Utf8 ? new string?[rows] : null;

    /// <summary>Text columns with few distinct values share one string per value (and get dictionary encoding).</summary>
    internal StringInterner? Interner { get; } = kind == FieldKind.Utf8 ? new StringInterner() : null;

    public bool IsLowCardinality => Interner is { Overflowed: false };
}

/// <summary>
/// Maps raw UTF-8 values to one shared string while a column has at most <see cref="MaxDistinct"/> distinct
/// values; past that the column is high-cardinality and every value is decoded on its own.
/// </summary>
internal sealed class StringInterner
{
    public const int MaxDistinct = 4096;
    private readonly Dictionary<ulong, (byte[] Raw, string Value)> _values = [];

    public bool Overflowed { get; private set; }

    public string Get(ReadOnlySpan<byte> raw)
    {
        if (Overflowed) return Encoding.UTF8.GetString(raw);
        var hash = System.IO.Hashing.XxHash3.HashToUInt64(raw);
        if (_values.TryGetValue(hash, out var hit) && raw.SequenceEqual(hit.Raw)) return hit.Value;
        var value = Encoding.UTF8.GetString(raw);
        if (_values.Count >= MaxDistinct) Overflowed = true;
        else _values.TryAdd(hash, (raw.ToArray(), value));
        return value;
    }
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
        var row = 0;
        Span<char> key = stackalloc char[512];
        foreach (var b in batches)
        {
            var reader = new Utf8JsonReader(b.Records, ReaderOptions);
            while (reader.Read())
            {
                // StartObject of one record
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.ValueSpan;
                    var n = Math.Min(name.Length, key.Length);
                    for (var i = 0; i < n; i++) key[i] = (char)name[i];
                    reader.Read();
                    if (n == 10 && key[..n].SequenceEqual("_timestamp"))
                    {
                        Timestamps[row] = reader.GetInt64();
                        continue;
                    }
                    if (!lookup.TryGetValue(key[..n], out var c))
                    {
                        reader.Skip();
                        continue;
                    }
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
                col.Strings![row] = r.TokenType switch
                {
                    JsonTokenType.String when !r.ValueIsEscaped => col.Interner!.Get(r.ValueSpan),
                    JsonTokenType.String => r.GetString(),
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    _ => Encoding.UTF8.GetString(r.ValueSpan), // a number in a text column keeps its JSON spelling
                };
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
