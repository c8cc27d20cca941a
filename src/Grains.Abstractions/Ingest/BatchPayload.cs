using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>
/// The columnar layout of <see cref="IngestBatch.Payload"/>, which is also the WAL payload. The gateway parses
/// each record's JSON once; the flush reads columns back without a second parse, and each column's values lie
/// together (the Parquet writer and the tokenizer read them in order).
/// <code>
/// "MSC1" | i32 rows | i32 columns | i64 timestamps[rows] | column*
/// column: u16 name length | name (UTF-8) | i32 cells | i32 data length | i32 row[cells] | i32 end[cells] | data
/// </code>
/// Columns are sparse: a cell per row that has the field, rows ascending, each value's bytes ending at its
/// <c>end</c> offset in <c>data</c>. A value's bytes are a string's unescaped UTF-8, a number's JSON spelling,
/// <c>true</c>/<c>false</c>, or the JSON text of a value kept whole (deeper objects, arrays); the batch's field
/// kinds say which.
/// </summary>
public static class BatchPayload
{
    public static ReadOnlySpan<byte> Magic => "MSC1"u8;

    private const int HeaderBytes = 12; // magic, rows, columns

    /// <summary>The rows of a payload without reading its columns.</summary>
    public static int Rows(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderBytes || !payload[..4].SequenceEqual(Magic))
            throw new InvalidDataException("not a MoleSignal batch payload (written by another version?)");
        return BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
    }

    /// <summary>One column of a payload.</summary>
    public readonly ref struct Column(ReadOnlySpan<byte> name, ReadOnlySpan<int> rows, ReadOnlySpan<int> ends, int dataOffset)
    {
        public ReadOnlySpan<byte> Name { get; } = name;
        /// <summary>The row of each cell, ascending.</summary>
        public ReadOnlySpan<int> Rows { get; } = rows;
        /// <summary>Where each cell's value ends in the column's data (it starts where the previous one ends).</summary>
        public ReadOnlySpan<int> Ends { get; } = ends;
        /// <summary>Where the column's data starts in the payload.</summary>
        public int DataOffset { get; } = dataOffset;
    }

    /// <summary>Reads a payload: its timestamps, then its columns in order.</summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _payload;
        private int _position;
        private int _columnsLeft;

        public Reader(ReadOnlySpan<byte> payload)
        {
            RowCount = BatchPayload.Rows(payload);
            _payload = payload;
            _columnsLeft = BinaryPrimitives.ReadInt32LittleEndian(payload[8..]);
            Timestamps = MemoryMarshal.Cast<byte, long>(payload.Slice(HeaderBytes, RowCount * sizeof(long)));
            _position = HeaderBytes + RowCount * sizeof(long);
        }

        public int RowCount { get; }

        public ReadOnlySpan<long> Timestamps { get; }

        public bool Next(out Column column)
        {
            if (_columnsLeft-- <= 0)
            {
                column = default;
                return false;
            }
            var p = _payload[_position..];
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(p);
            var name = p.Slice(2, nameLength);
            p = p[(2 + nameLength)..];
            var cells = BinaryPrimitives.ReadInt32LittleEndian(p);
            var dataLength = BinaryPrimitives.ReadInt32LittleEndian(p[4..]);
            var rows = MemoryMarshal.Cast<byte, int>(p.Slice(8, cells * sizeof(int)));
            var ends = MemoryMarshal.Cast<byte, int>(p.Slice(8 + cells * sizeof(int), cells * sizeof(int)));
            var dataOffset = _position + 2 + nameLength + 8 + 2 * cells * sizeof(int);
            column = new Column(name, rows, ends, dataOffset);
            _position = dataOffset + dataLength;
            return true;
        }
    }

    /// <summary>
    /// Builds payloads row by row: a row's cells, then <see cref="EndRow"/>. Buffers are pooled and reused from
    /// one payload to the next; a column is named by the caller's field number (stable within one writer).
    /// </summary>
    public sealed class Writer : IDisposable
    {
        private readonly List<ColumnBuffer?> _columns = [];
        private readonly List<int> _used = []; // field numbers with cells in the current payload, in first-seen order
        private long[] _timestamps = ArrayPool<long>.Shared.Rent(1024);
        private long _bytes = HeaderBytes;

        public int RowCount { get; private set; }

        /// <summary>The size of the payload as it stands.</summary>
        public long Bytes => _bytes;

        /// <summary>A cell of the current row. A field gets at most one cell a row.</summary>
        public void Add(int field, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            while (_columns.Count <= field) _columns.Add(null);
            var c = _columns[field] ??= new ColumnBuffer(name.ToArray());
            if (c.Cells == 0)
            {
                _used.Add(field);
                _bytes += 2 + c.Name.Length + 8;
            }
            c.Add(RowCount, value);
            _bytes += 8 + value.Length;
        }

        public void EndRow(long timestamp)
        {
            if (RowCount == _timestamps.Length) Grow(ref _timestamps, RowCount * 2, RowCount);
            _timestamps[RowCount++] = timestamp;
            _bytes += sizeof(long);
        }

        /// <summary>The payload of the rows so far; the writer is then empty.</summary>
        public byte[] ToPayload()
        {
            var payload = GC.AllocateUninitializedArray<byte>(checked((int)_bytes)); // every byte is written below
            var p = payload.AsSpan();
            Magic.CopyTo(p);
            BinaryPrimitives.WriteInt32LittleEndian(p[4..], RowCount);
            BinaryPrimitives.WriteInt32LittleEndian(p[8..], _used.Count);
            MemoryMarshal.AsBytes(_timestamps.AsSpan(0, RowCount)).CopyTo(p[HeaderBytes..]);
            var o = HeaderBytes + RowCount * sizeof(long);
            foreach (var field in _used)
            {
                var c = _columns[field]!;
                BinaryPrimitives.WriteUInt16LittleEndian(p[o..], (ushort)c.Name.Length);
                c.Name.CopyTo(p[(o + 2)..]);
                o += 2 + c.Name.Length;
                BinaryPrimitives.WriteInt32LittleEndian(p[o..], c.Cells);
                BinaryPrimitives.WriteInt32LittleEndian(p[(o + 4)..], c.DataLength);
                o += 8;
                MemoryMarshal.AsBytes(c.Rows.AsSpan(0, c.Cells)).CopyTo(p[o..]);
                o += c.Cells * sizeof(int);
                MemoryMarshal.AsBytes(c.Ends.AsSpan(0, c.Cells)).CopyTo(p[o..]);
                o += c.Cells * sizeof(int);
                c.Data.AsSpan(0, c.DataLength).CopyTo(p[o..]);
                o += c.DataLength;
                c.Clear();
            }
            if (o != payload.Length) throw new InvalidOperationException($"payload size {o} != {payload.Length}");
            _used.Clear();
            RowCount = 0;
            _bytes = HeaderBytes;
            return payload;
        }

        /// <summary>Drops the rows so far: the writer is empty.</summary>
        public void Clear()
        {
            foreach (var field in _used) _columns[field]!.Clear();
            _used.Clear();
            RowCount = 0;
            _bytes = HeaderBytes;
        }

        public void Dispose()
        {
            foreach (var c in _columns) c?.Dispose();
            _columns.Clear();
            ArrayPool<long>.Shared.Return(_timestamps);
        }

        /// <summary>A bigger pooled array holding the first <paramref name="used"/> items; the old one goes back.</summary>
        private static void Grow<T>(ref T[] array, int size, int used)
        {
            var bigger = ArrayPool<T>.Shared.Rent(size);
            array.AsSpan(0, used).CopyTo(bigger);
            ArrayPool<T>.Shared.Return(array);
            array = bigger;
        }

        private sealed class ColumnBuffer(byte[] name) : IDisposable
        {
            public readonly byte[] Name = name;
            public int[] Rows = ArrayPool<int>.Shared.Rent(256);
            public int[] Ends = ArrayPool<int>.Shared.Rent(256);
            public byte[] Data = ArrayPool<byte>.Shared.Rent(4096);
            public int Cells;
            public int DataLength;

            public void Add(int row, ReadOnlySpan<byte> value)
            {
                if (Cells == Rows.Length)
                {
                    Grow(ref Rows, Cells * 2, Cells);
                    Grow(ref Ends, Cells * 2, Cells);
                }
                if (DataLength + value.Length > Data.Length) Grow(ref Data, Math.Max(Data.Length * 2, DataLength + value.Length), DataLength);
                value.CopyTo(Data.AsSpan(DataLength));
                DataLength += value.Length;
                Rows[Cells] = row;
                Ends[Cells++] = DataLength;
            }

            public void Clear()
            {
                Cells = 0;
                DataLength = 0;
            }

            public void Dispose()
            {
                ArrayPool<int>.Shared.Return(Rows);
                ArrayPool<int>.Shared.Return(Ends);
                ArrayPool<byte>.Shared.Return(Data);
            }
        }
    }
}
