using System.Collections.Concurrent;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Store;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Decides from a file's index sidecar whether any of its rows can satisfy the query's match_all() texts (some
/// row holds every token) and id equalities (bloom filters). Opened sidecars are kept in memory.
/// </summary>
public sealed class IndexPruner(ObjectFiles files)
{
    private const int MaxOpen = 512;
    private readonly ConcurrentDictionary<string, Lazy<Task<Sidecar>>> _open = new();

    private sealed class Sidecar(DirectoryReader? reader, int rows, string[] textFields, Dictionary<string, BloomFilter> blooms)
    {
        public string[] TextFields { get; } = textFields;
        public IndexSearcher? Searcher { get; } = reader is null ? null : new IndexSearcher(reader);
        /// <summary>Whether doc ids are the file's row numbers (one doc per row, in row order, as every sidecar is built).</summary>
        public bool DocsAreRows { get; } = reader is not null && reader.MaxDoc == rows;
        public Dictionary<string, BloomFilter> Blooms { get; } = blooms;
    }

    /// <summary>Up to this many matching rows, a file is read at those rows only.</summary>
    public const int MaxNarrowedRows = 4096;

    /// <summary>
    /// Whether the file may hold a matching row, and, when the index can tell, the row numbers of every row that
    /// matches the match_all() texts (at most <see cref="MaxNarrowedRows"/>, ascending): exactly the rows to read;
    /// with them, the text fields the sidecar indexed (the rows match over those fields).
    /// </summary>
    public async Task<IndexMatch> MatchAsync(FileMeta file, IReadOnlyList<List<string>> matchAll,
        IReadOnlyList<(string Column, string Value)> equalities, CancellationToken ct)
    {
        if (matchAll.Count == 0 && equalities.Count == 0) return IndexMatch.Whole;
        if (_open.Count > MaxOpen) _open.Clear();
        var sidecar = await _open.GetOrAdd(file.IndexKey, key => new Lazy<Task<Sidecar>>(() => OpenAsync(key, ct))).Value;
        foreach (var (column, value) in equalities)
            if (sidecar.Blooms.TryGetValue(column, out var bloom) && !bloom.MightContain(value))
                return IndexMatch.None;
        if (sidecar.Searcher is null) return IndexMatch.Whole; // no full-text fields indexed: cannot rule anything out
        var all = new BooleanQuery();
        foreach (var t in matchAll.SelectMany(x => x).Distinct()) all.Add(new TermQuery(new Term(IndexSidecar.AllField, t)), Occur.MUST);
        if (all.Clauses.Count == 0) return IndexMatch.Whole;
        var docs = new DocCollector(MaxNarrowedRows + 1);
        sidecar.Searcher.Search(all, docs);
        if (docs.Count == 0) return IndexMatch.None;
        if (docs.Count > MaxNarrowedRows || !sidecar.DocsAreRows) return IndexMatch.Whole;
        var rows = docs.Docs.Select(d => (long)d).ToArray();
        Array.Sort(rows);
        return new IndexMatch(true, rows, sidecar.TextFields);
    }

    /// <summary>Matching doc ids (= row numbers), unscored, up to a cap; the total is counted past it.</summary>
    private sealed class DocCollector(int cap) : ICollector
    {
        private int _docBase;
        public List<int> Docs { get; } = [];
        public int Count { get; private set; }
        public bool AcceptsDocsOutOfOrder => true;
        public void SetScorer(Scorer scorer) { }
        public void SetNextReader(AtomicReaderContext context) => _docBase = context.DocBase;
        public void Collect(int doc)
        {
            if (++Count <= cap) Docs.Add(_docBase + doc);
        }
    }

    private async Task<Sidecar> OpenAsync(string key, CancellationToken ct)
    {
        var path = await files.PathAsync(key, ct);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, ct);
        }
        finally
        {
            files.Unpin([path]);
        }
        var (header, data) = IndexSidecar.Read(bytes);
        var blooms = header.Blooms.ToDictionary(b => b.Name, b => BloomFilter.FromBytes(data.Span.Slice((int)b.Offset, b.Length)));
        if (header.Lucene.Length == 0) return new Sidecar(null, header.Rows, header.TextFields, blooms);
        var dir = new RAMDirectory();
        foreach (var blob in header.Lucene)
        {
            using var o = dir.CreateOutput(blob.Name, IOContext.DEFAULT);
            o.WriteBytes(data.Slice((int)blob.Offset, blob.Length).ToArray(), blob.Length);
        }
        return new Sidecar(DirectoryReader.Open(dir), header.Rows, header.TextFields, blooms);
    }
}

/// <summary>What a file's sidecar says of a query: whether any row may match, and when it knows, exactly which rows (over which text fields).</summary>
public sealed record IndexMatch(bool May, long[]? Rows, IReadOnlyList<string> TextFields)
{
    public static readonly IndexMatch Whole = new(true, null, []);
    public static readonly IndexMatch None = new(false, null, []);
}
