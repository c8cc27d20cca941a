using System.Buffers;
using System.IO.Compression;
using MoleSignal.Grains.Abstractions.Ingest;
using Parquet;
using Parquet.Schema;

namespace MoleSignal.Grains.Columnar;

/// <summary>
/// Rows of a <see cref="ColumnSet"/> (a range of a sorted order) to one Parquet file: zstd level 3, dictionary
/// hints on low-cardinality text columns, delta encoding on <c>_timestamp</c>, row groups of <see cref="RowGroupRows"/>.
/// </summary>
public static class ParquetEncoder
{
    public const int RowGroupRows = 64 * 1024;

    public static async Task<byte[]> EncodeAsync(ColumnSet set, int[] order, int from, int to, CancellationToken ct = default)
    {
        var tsField = new DataField<long>("_timestamp");
        var fields = new List<DataField> { tsField };
        var options = new ParquetOptions
        {
            CompressionMethod = CompressionMethod.Zstd,
            // Parquet.Net's default maps to zstd 19 (minutes per flush); Optimal is zstd 3.
            CompressionLevel = CompressionLevel.Optimal,
        };
        options.ColumnEncodingHints[tsField.Path.ToString()] = EncodingHint.DeltaBinaryPacked;
        foreach (var c in set.Columns)
        {
            DataField f = c.Kind switch
            {
                FieldKind.Int64 => new DataField<long?>(c.Name),
                FieldKind.Float64 => new DataField<double?>(c.Name),
                FieldKind.Bool => new DataField<bool?>(c.Name),
                _ => new DataField<string>(c.Name, true),
            };
            if (c.IsLowCardinality) options.ColumnEncodingHints[f.Path.ToString()] = EncodingHint.Dictionary;
            fields.Add(f);
        }

        using var ms = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), ms, options, false, ct))
        {
            for (var start = from; start < to; start += RowGroupRows)
            {
                var end = Math.Min(to, start + RowGroupRows);
                var n = end - start;
                using var rg = writer.CreateRowGroup();
                var ts = ArrayPool<long>.Shared.Rent(n);
                for (var i = 0; i < n; i++) ts[i] = set.Timestamps[order[start + i]];
                await rg.WriteAsync<long>(tsField, ts.AsMemory(0, n), null, null, ct);
                ArrayPool<long>.Shared.Return(ts);
                for (var ci = 0; ci < set.Columns.Length; ci++)
                {
                    var c = set.Columns[ci];
                    var f = fields[ci + 1];
                    switch (c.Kind)
                    {
                        case FieldKind.Int64:
                            await WritePermuted<long>(rg, f, c.Longs!, order, start, n, ct);
                            break;
                        case FieldKind.Float64:
                            await WritePermuted<double>(rg, f, c.Doubles!, order, start, n, ct);
                            break;
                        case FieldKind.Bool:
                            await WritePermuted<bool>(rg, f, c.Bools!, order, start, n, ct);
                            break;
                        default:
                            await WritePermuted<ReadOnlyMemory<char>>(rg, f, c.Strings!, order, start, n, ct);
                            break;
                    }
                }
            }
        }
        return ms.ToArray();
    }

    // Row-group columns are large (LOH) arrays: pooled, so a flush does not churn gen2 collections.
    private static async Task WritePermuted<T>(ParquetRowGroupWriter rg, DataField f, T?[] source, int[] order, int start, int n, CancellationToken ct)
        where T : struct
    {
        var buffer = ArrayPool<T?>.Shared.Rent(n);
        try
        {
            for (var i = 0; i < n; i++) buffer[i] = source[order[start + i]];
            await rg.WriteAsync<T>(f, buffer.AsMemory(0, n), null, null, ct);
        }
        finally
        {
            ArrayPool<T?>.Shared.Return(buffer, clearArray: typeof(T) == typeof(ReadOnlyMemory<char>));
        }
    }
}
