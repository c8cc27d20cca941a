using System.Text;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Store;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Index;
using MoleSignal.Tests.Support;
using Parquet;

namespace MoleSignal.Tests.Columnar;

public sealed class FlushEncodingTests
{
    /// <summary>Flat JSON lines as a batch, <c>_timestamp</c> taken as is (the gateway would scale it).</summary>
    private static IngestBatch Batch(params string[] lines)
    {
        using var writer = new BatchPayload.Writer();
        var fields = new Dictionary<string, int>();
        foreach (var line in lines)
        {
            var record = System.Text.Json.JsonDocument.Parse(line).RootElement;
            foreach (var p in record.EnumerateObject().Where(p => p.Name != "_timestamp"))
            {
                var value = p.Value.ValueKind == System.Text.Json.JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                writer.Add(fields.TryGetValue(p.Name, out var f) ? f : fields[p.Name] = fields.Count, Encoding.UTF8.GetBytes(p.Name), Encoding.UTF8.GetBytes(value));
            }
            writer.EndRow(record.GetProperty("_timestamp").GetInt64());
        }
        return new IngestBatch { Payload = writer.ToPayload(), Count = lines.Length, FieldNames = [], FieldKinds = [] };
    }

    private static readonly (string, FieldKind)[] Schema =
    [
        ("_timestamp", FieldKind.Int64), ("n", FieldKind.Int64), ("f", FieldKind.Float64), ("s", FieldKind.Utf8),
        ("b", FieldKind.Bool), ("message", FieldKind.Utf8), ("trace_id", FieldKind.Utf8),
    ];

    private static ColumnSet Sample() => new([
        Batch("""{"_timestamp":30,"n":3,"f":3,"s":"three","b":true,"message":"GET /cart timeout xyzzy-42","trace_id":"t3"}""",
              """{"_timestamp":10,"n":1,"f":1.5,"s":1,"message":"all good","trace_id":"t1"}"""),
        Batch("""{"_timestamp":20,"b":false,"s":true,"message":"Payment FAILED","trace_id":"t2"}"""),
    ], Schema);

    [Fact]
    public async Task Parquet_holds_sorted_typed_columns_with_values_coerced_to_the_stream_schema()
    {
        var set = Sample();
        var order = set.SortedOrder();
        using var dir = new TempDir();
        using var encoder = new ParquetEncoder(dir.Path);
        byte[] bytes;
        using (var file = await encoder.EncodeAsync(set, order, 0, set.Rows))
        {
            bytes = await File.ReadAllBytesAsync(file.Path);
            Assert.Equal(bytes.Length, file.Length);
        }
        Assert.Empty(System.IO.Directory.GetFiles(dir.Path)); // a file nobody put away is removed
        await using var reader = await ParquetReader.CreateAsync(new MemoryStream(bytes));
        Assert.Equal(3, reader.Metadata!.NumRows);
        var fields = reader.Schema.DataFields;
        Assert.Equal(Schema.Select(s => s.Item1), fields.Select(f => f.Name));
        using var rg = reader.OpenRowGroupReader(0);
        var ts = new long?[3]; // DuckDB declares every column optional
        await rg.ReadAsync<long>(fields[0], ts);
        var n = new long?[3];
        await rg.ReadAsync<long>(fields[1], n);
        var f = new double?[3];
        await rg.ReadAsync<double>(fields[2], f);
        var s = new string[3];
        await rg.ReadAsync(fields[3], s);
        var b = new bool?[3];
        await rg.ReadAsync<bool>(fields[4], b);
        Assert.Equal([10L, 20, 30], ts);
        Assert.True(rg.RowCount == 3 && reader.RowGroupCount == 1);
        Assert.Equal([1L, null, 3], n);
        Assert.Equal([1.5, null, 3.0], f);
        Assert.Equal(["1", "true", "three"], s);
        Assert.Equal([null, false, true], b);
    }

    [Fact]
    public void Sidecar_finds_terms_case_insensitively_by_row_and_blooms_hold_ids()
    {
        var set = Sample();
        var order = set.SortedOrder();
        var sidecar = IndexSidecar.Build(set, order, 0, set.Rows, new FieldPatterns(["message", "error_*"]), new FieldPatterns(["trace_id"]));
        var (header, data) = IndexSidecar.Read(sidecar);
        Assert.Equal(3, header.Rows);
        Assert.Equal(["message"], header.TextFields);

        var bloomBlob = header.Blooms.Single(b => b.Name == "trace_id");
        var bloom = BloomFilter.FromBytes(data.Span.Slice((int)bloomBlob.Offset, bloomBlob.Length));
        Assert.True(bloom.MightContain("t1") && bloom.MightContain("t2") && bloom.MightContain("t3"));
        Assert.False(bloom.MightContain("absent-trace"));

        using var dir = new RAMDirectory();
        foreach (var blob in header.Lucene)
        {
            using var o = dir.CreateOutput(blob.Name, IOContext.DEFAULT);
            o.WriteBytes(data.Span.Slice((int)blob.Offset, blob.Length).ToArray(), blob.Length);
        }
        using var r = DirectoryReader.Open(dir);
        var searcher = new IndexSearcher(r);
        int[] Rows(string term) => searcher.Search(new TermQuery(new Term(IndexSidecar.AllField, term)), 10).ScoreDocs.Select(d => d.Doc).Order().ToArray();
        Assert.Equal([1], Rows("failed"));
        Assert.Equal([2], Rows("xyzzy"));
        Assert.Equal([0], Rows("good"));
        Assert.Empty(Rows("absent"));
    }

    [Fact]
    public void Sidecar_holds_exactly_the_tokens_of_each_row_with_doc_ids_as_row_numbers()
    {
        const int rows = 3_000;
        var random = new Random(11);
        string[] words = ["GET", "Straße", "ÉTÉ", "x²", "emoji😀", "v1.2.3", "日本語", "İstanbul", "ΣΊΣΥΦΟΣ", "a-b_c", "payment", "FAILED"];
        // Timestamps descending: the sorted order reverses the input, so a doc id equal to its row is no accident.
        var messages = Enumerable.Range(0, rows)
            .Select(i => string.Join(' ', Enumerable.Range(0, random.Next(0, 6)).Select(_ => words[random.Next(words.Length)]).Append($"w{rows - 1 - i}")))
            .ToArray();
        var lines = messages.Select((m, i) => $$"""{"_timestamp":{{rows - i}},"message":{{System.Text.Json.JsonSerializer.Serialize(m)}}}""").ToArray();
        var set = new ColumnSet([Batch(lines)], [("_timestamp", FieldKind.Int64), ("message", FieldKind.Utf8)]);
        var order = set.SortedOrder();
        var sidecar = IndexSidecar.Build(set, order, 0, rows, new FieldPatterns(["message"]), new FieldPatterns([]));

        // What each term should list: the rows (in sorted order) whose message has it, by the query tokenizer.
        var expected = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        for (var row = 0; row < rows; row++)
            foreach (var token in TextTokens.Of(messages[order[row]]).Distinct())
                (expected.TryGetValue(token, out var l) ? l : expected[token] = []).Add(row);

        var (header, data) = IndexSidecar.Read(sidecar);
        using var dir = new RAMDirectory();
        foreach (var blob in header.Lucene)
        {
            using var o = dir.CreateOutput(blob.Name, IOContext.DEFAULT);
            o.WriteBytes(data.Span.Slice((int)blob.Offset, blob.Length).ToArray(), blob.Length);
        }
        using var r = DirectoryReader.Open(dir);
        Assert.Equal(rows, r.MaxDoc);
        var actual = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        var terms = MultiFields.GetTerms(r, IndexSidecar.AllField).GetEnumerator();
        while (terms.MoveNext())
        {
            var docs = terms.Docs(null, null);
            var list = new List<int>();
            while (docs.NextDoc() != DocIdSetIterator.NO_MORE_DOCS) list.Add(docs.DocID);
            actual[terms.Term.Utf8ToString()] = list;
        }
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (term, docs) in expected) Assert.Equal(docs, actual[term]);
        // And a search finds them (the query path's term lookup, not only the enumeration).
        var searcher = new IndexSearcher(r);
        foreach (var row in new[] { 0, 1, 99, 100, 1_234, rows - 1 })
            Assert.Equal([row], searcher.Search(new TermQuery(new Term(IndexSidecar.AllField, $"w{row}")), 10).ScoreDocs.Select(d => d.Doc));
    }

    [Fact]
    public void Bloom_false_positive_rate_is_near_the_target()
    {
        var bloom = new BloomFilter(10_000);
        for (var i = 0; i < 10_000; i++) bloom.Add($"id-{i}");
        Assert.All(Enumerable.Range(0, 10_000), i => Assert.True(bloom.MightContain($"id-{i}")));
        var fp = Enumerable.Range(0, 10_000).Count(i => bloom.MightContain($"other-{i}"));
        Assert.InRange(fp, 0, 300); // 1% target, generous bound
    }

    [Fact]
    public void A_bloom_of_the_first_format_is_still_read_as_written()
    {
        // The first format: UTF-16 hashed, probes mapped by modulo, the hash count stored without a flag.
        const int hashes = 7;
        var bits = new ulong[1024];
        var m = (ulong)bits.Length * 64;
        (ulong, ulong) Hash(string v)
        {
            var h = System.IO.Hashing.XxHash128.HashToUInt128(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
            return ((ulong)(h >> 64), (ulong)h | 1);
        }
        for (var i = 0; i < 1000; i++)
        {
            var (h1, h2) = Hash($"id-{i}");
            for (var k = 0; k < hashes; k++)
            {
                var bit = (h1 + (ulong)k * h2) % m;
                bits[bit >> 6] |= 1UL << (int)(bit & 63);
            }
        }
        var bytes = new byte[4 + bits.Length * 8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, hashes);
        for (var i = 0; i < bits.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(4 + i * 8), bits[i]);

        var bloom = BloomFilter.FromBytes(bytes);
        Assert.All(Enumerable.Range(0, 1000), i => Assert.True(bloom.MightContain($"id-{i}")));
        Assert.InRange(Enumerable.Range(0, 1000).Count(i => bloom.MightContain($"other-{i}")), 0, 50);
        // And a filter written now survives its bytes.
        var fresh = new BloomFilter(1000);
        fresh.Add(Encoding.UTF8.GetBytes("t-1"));
        Assert.True(BloomFilter.FromBytes(fresh.ToBytes()).MightContain("t-1"));
    }
}
