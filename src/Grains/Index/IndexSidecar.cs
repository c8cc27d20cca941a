using System.Buffers.Binary;
using System.Text.Json;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Index;
using Lucene.Net.Store;
using Lucene.Net.Util;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;

namespace MoleSignal.Grains.Index;

/// <summary>
/// The search sidecar of one Parquet file: a lean Lucene index of the full-text fields (one field <c>_all</c>,
/// DOCS_ONLY, no norms, nothing stored; doc id = row number in the file) and a bloom filter per id field.
/// Packed into one object: <c>"MSIX" 1 | u32 header length | header JSON | blobs</c>.
/// </summary>
public static class IndexSidecar
{
    public const string AllField = "_all";
    private static ReadOnlySpan<byte> Magic => "MSIX"u8;

    public sealed record Blob(string Name, long Offset, int Length);

    public sealed record Header(int Rows, string[] TextFields, Blob[] Blooms, Blob[] Lucene);

    public static byte[] Build(ColumnSet set, int[] order, int from, int to, FieldPatterns textFields, FieldPatterns idFields)
    {
        var text = set.Columns.Where(c => c.Kind == FieldKind.Utf8 && textFields.Matches(c.Name)).ToArray();
        var ids = set.Columns.Where(c => c.Kind == FieldKind.Utf8 && idFields.Matches(c.Name)).ToArray();
        var rows = to - from;
        var blobs = new List<(string Name, byte[] Data, bool Bloom)>();

        foreach (var c in ids)
        {
            var bloom = new BloomFilter(rows);
            for (var i = from; i < to; i++)
                if (c.Strings![order[i]] is { } v) bloom.Add(v.Span);
            blobs.Add((c.Name, bloom.ToBytes(), true));
        }

        if (text.Length > 0)
        {
            var table = new PostingsTable();
            var tokens = new TextTokens.RowTokens();
            for (var i = from; i < to; i++)
            {
                tokens.Clear();
                foreach (var c in text)
                    if (c.Strings![order[i]] is { } v) tokens.Add(v.Span);
                for (var t = 0; t < tokens.Count; t++) table.Add(tokens[t], i - from);
            }
            using var dir = new RAMDirectory();
            var config = new IndexWriterConfig(LuceneVersion.LUCENE_48, new KeywordAnalyzer())
            {
                OpenMode = OpenMode.CREATE,
                Codec = new TableCodec(),
                UseCompoundFile = false, // the files are packed into the sidecar anyway
                MergePolicy = new LogDocMergePolicy { NoCFSRatio = 0 },
            };
            using (var writer = new IndexWriter(dir, config))
            {
                // One reader without deletions: the segment's doc ids are the table's, row numbers.
                using var postings = new PostingsReader(AllField, table, rows);
                writer.AddIndexes(postings);
                writer.Commit();
            }
            foreach (var name in dir.ListAll())
            {
                using var input = dir.OpenInput(name, IOContext.READ_ONCE);
                var data = new byte[input.Length];
                input.ReadBytes(data, 0, data.Length);
                blobs.Add((name, data, false));
            }
        }

        long offset = 0;
        var blooms = new List<Blob>();
        var lucene = new List<Blob>();
        foreach (var (name, data, isBloom) in blobs)
        {
            (isBloom ? blooms : lucene).Add(new Blob(name, offset, data.Length));
            offset += data.Length;
        }
        var header = JsonSerializer.SerializeToUtf8Bytes(new Header(rows, text.Select(c => c.Name).ToArray(), [.. blooms], [.. lucene]));
        var result = new byte[Magic.Length + 1 + 4 + header.Length + offset];
        Magic.CopyTo(result);
        result[4] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(5), header.Length);
        header.CopyTo(result, 9);
        var pos = 9 + header.Length;
        foreach (var (_, data, _) in blobs)
        {
            data.CopyTo(result, pos);
            pos += data.Length;
        }
        return result;
    }

    public static (Header Header, ReadOnlyMemory<byte> Data) Read(byte[] sidecar)
    {
        if (sidecar.Length < 9 || !sidecar.AsSpan(0, 4).SequenceEqual(Magic) || sidecar[4] != 1)
            throw new InvalidDataException("not a MoleSignal index sidecar");
        var len = BinaryPrimitives.ReadInt32LittleEndian(sidecar.AsSpan(5));
        var header = JsonSerializer.Deserialize<Header>(sidecar.AsSpan(9, len))!;
        return (header, sidecar.AsMemory(9 + len));
    }
}
