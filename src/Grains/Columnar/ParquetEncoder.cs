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
    public const int RowGroupRows = 256 * 1024;

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
                var ts = new long[n];
                for (var i = 0; i < n; i++) ts[i] = set.Timestamps[order[start + i]];
                await rg.WriteAsync<long>(tsField, ts, null, null, ct);
                for (var ci = 0; ci < set.Columns.Length; ci++)
                {
                    var c = set.Columns[ci];
                    var f = fields[ci + 1];
                    switch (c.Kind)
                    {
                        case FieldKind.Int64:
                            await rg.WriteAsync<long>(f, Permute(c.Longs!, order, start, n), null, null, ct);
                            break;
                        case FieldKind.Float64:
                            await rg.WriteAsync<double>(f, Permute(c.Doubles!, order, start, n), null, null, ct);
                            break;
                        case FieldKind.Bool:
                            await rg.WriteAsync<bool>(f, Permute(c.Bools!, order, start, n), null, null, ct);
                            break;
                        default:
                            await rg.WriteAsync(f, Permute(c.Strings!, order, start, n), null);
                            break;
                    }
                }
            }
        }
        return ms.ToArray();
    }

    private static T[] Permute<T>(T[] source, int[] order, int start, int n)
    {
        var result = new T[n];
        for (var i = 0; i < n; i++) result[i] = source[order[start + i]];
        return result;
    }
}
