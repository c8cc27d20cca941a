using System.Buffers;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// Rows <c>[from, to)</c> of a sorted order of a <see cref="ColumnSet"/> as Arrow record batches of at most
/// <paramref name="batchRows"/> rows, built when asked for (text copied as UTF-8 with offsets, nulls as validity bits).
/// The buffers are rented and go back to the pool on <see cref="Dispose"/>, once the reader is done with them.
/// </summary>
public sealed class SortedBatches(ColumnSet set, int[] order, int from, int to, int batchRows) : IArrowArrayStream
{
    // A pool of its own: a file's batches hold tens of MB at once, more than the shared pool keeps, and buffers
    // allocated afresh for every flush cost page faults on each first write (they measured ~8% of ingest CPU).
    private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 64 << 20, maxArraysPerBucket: 64);
    private readonly List<byte[]> _rented = [];
    private int _next = from;

    public Schema Schema { get; } = new(
        set.Columns.Select(c => new Field(c.Name, ArrowType(c.Kind), nullable: true))
            .Prepend(new Field("_timestamp", Int64Type.Default, nullable: false)), null);

    private static IArrowType ArrowType(FieldKind kind) => kind switch
    {
        FieldKind.Int64 => Int64Type.Default,
        FieldKind.Float64 => DoubleType.Default,
        FieldKind.Bool => BooleanType.Default,
        _ => StringType.Default,
    };

    public ValueTask<RecordBatch?> ReadNextRecordBatchAsync(CancellationToken ct = default)
    {
        if (_next >= to) return ValueTask.FromResult<RecordBatch?>(null);
        var start = _next;
        var n = Math.Min(batchRows, to - start);
        _next += n;
        var rows = order.AsSpan(start, n);
        var arrays = new IArrowArray[set.Columns.Length + 1];
        var ts = Rent(n * sizeof(long));
        var tsValues = MemoryMarshal.Cast<byte, long>(ts.AsSpan());
        for (var i = 0; i < n; i++) tsValues[i] = set.Timestamps[rows[i]];
        arrays[0] = new Int64Array(new ArrowBuffer(ts.AsMemory(0, n * sizeof(long))), ArrowBuffer.Empty, n, 0, 0);
        for (var c = 0; c < set.Columns.Length; c++)
        {
            var col = set.Columns[c];
            arrays[c + 1] = col.Kind switch
            {
                FieldKind.Int64 => Fixed(col.Longs!, rows, (b, v, l) => new Int64Array(v, b, n, l, 0)),
                FieldKind.Float64 => Fixed(col.Doubles!, rows, (b, v, l) => new DoubleArray(v, b, n, l, 0)),
                FieldKind.Bool => Bools(col.Bools!, rows),
                _ => Strings(col.Strings!, rows),
            };
        }
        return ValueTask.FromResult<RecordBatch?>(new RecordBatch(Schema, arrays, n));
    }

    private IArrowArray Fixed<T>(T?[] source, ReadOnlySpan<int> rows, Func<ArrowBuffer, ArrowBuffer, int, IArrowArray> make) where T : unmanaged
    {
        var n = rows.Length;
        var size = Marshal.SizeOf<T>();
        var values = Rent(n * size);
        var typed = MemoryMarshal.Cast<byte, T>(values.AsSpan(0, n * size));
        var validity = Validity(n, out var bits);
        var nulls = 0;
        for (var i = 0; i < n; i++)
        {
            if (source[rows[i]] is { } v)
            {
                typed[i] = v;
                bits[i >> 3] |= (byte)(1 << (i & 7));
            }
            else
            {
                typed[i] = default;
                nulls++;
            }
        }
        return make(validity, new ArrowBuffer(values.AsMemory(0, n * size)), nulls);
    }

    private IArrowArray Bools(bool?[] source, ReadOnlySpan<int> rows)
    {
        var n = rows.Length;
        var validity = Validity(n, out var bits);
        var values = Rent((n + 7) / 8);
        values.AsSpan(0, (n + 7) / 8).Clear();
        var nulls = 0;
        for (var i = 0; i < n; i++)
        {
            if (source[rows[i]] is { } v)
            {
                bits[i >> 3] |= (byte)(1 << (i & 7));
                if (v) values[i >> 3] |= (byte)(1 << (i & 7));
            }
            else nulls++;
        }
        return new BooleanArray(new ArrowBuffer(values.AsMemory(0, (n + 7) / 8)), validity, n, nulls, 0);
    }

    private IArrowArray Strings(ReadOnlyMemory<byte>?[] source, ReadOnlySpan<int> rows)
    {
        var n = rows.Length;
        var validity = Validity(n, out var bits);
        var offsetBytes = Rent((n + 1) * sizeof(int));
        var offsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan(0, (n + 1) * sizeof(int)));
        var size = 0;
        for (var i = 0; i < n; i++)
            if (source[rows[i]] is { } v) size += v.Length;
        var data = Rent(Math.Max(size, 1));
        var used = 0;
        var nulls = 0;
        for (var i = 0; i < n; i++)
        {
            offsets[i] = used;
            if (source[rows[i]] is { } v)
            {
                v.Span.CopyTo(data.AsSpan(used));
                used += v.Length;
                bits[i >> 3] |= (byte)(1 << (i & 7));
            }
            else nulls++;
        }
        offsets[n] = used;
        return new StringArray(n, new ArrowBuffer(offsetBytes.AsMemory(0, (n + 1) * sizeof(int))), new ArrowBuffer(data.AsMemory(0, used)), validity, nulls, 0);
    }

    private ArrowBuffer Validity(int n, out Span<byte> bits)
    {
        var bytes = Rent((n + 7) / 8);
        bits = bytes.AsSpan(0, (n + 7) / 8);
        bits.Clear();
        return new ArrowBuffer(bytes.AsMemory(0, (n + 7) / 8));
    }

    private byte[] Rent(int size)
    {
        var a = Pool.Rent(size);
        _rented.Add(a);
        return a;
    }

    public void Dispose()
    {
        foreach (var a in _rented) Pool.Return(a);
        _rented.Clear();
    }
}
