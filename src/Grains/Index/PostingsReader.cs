using Lucene.Net.Codecs;
using Lucene.Net.Index;
using Lucene.Net.Util;

namespace MoleSignal.Grains.Index;

/// <summary>
/// A <see cref="PostingsTable"/> seen by Lucene as a reader of one DOCS_ONLY field with nothing stored, so that
/// <c>IndexWriter.AddIndexes</c> writes it as a segment with Lucene's codec: the sidecar's files are those of
/// any Lucene index, doc ids the table's (row numbers).
/// </summary>
internal sealed class PostingsReader(string fieldName, PostingsTable table, int docs) : AtomicReader
{
    private readonly FieldInfos _infos = new([
        new FieldInfo(fieldName, indexed: true, number: 0, storeTermVector: false, omitNorms: true, storePayloads: false,
            IndexOptions.DOCS_ONLY, DocValuesType.NONE, DocValuesType.NONE, null),
    ]);

    public override Fields Fields => new TableFields(fieldName, table, docs);

    /// <summary>The table's postings, term by term, straight to a postings writer (see <see cref="TableCodec"/>).</summary>
    internal void WriteTo(FieldsConsumer consumer, FieldInfos infos)
    {
        var terms = consumer.AddField(infos.FieldInfo(fieldName));
        var bytes = new BytesRef();
        long sumDocFreq = 0;
        foreach (var id in table.SortedTerms())
        {
            (bytes.Bytes, bytes.Offset, bytes.Length) = table.TermSlice(id);
            var postings = terms.StartTerm(bytes);
            var list = table.Docs(id);
            foreach (var doc in list)
            {
                postings.StartDoc(doc, -1); // DOCS_ONLY: no frequencies
                postings.FinishDoc();
            }
            terms.FinishTerm(bytes, new TermStats(list.Length, -1));
            sumDocFreq += list.Length;
        }
        terms.Finish(-1, sumDocFreq, docs);
    }
    public override FieldInfos FieldInfos => _infos;
    public override IBits? LiveDocs => null;
    public override int NumDocs => docs;
    public override int MaxDoc => docs;
    public override NumericDocValues? GetNumericDocValues(string field) => null;
    public override BinaryDocValues? GetBinaryDocValues(string field) => null;
    public override SortedDocValues? GetSortedDocValues(string field) => null;
    public override SortedSetDocValues? GetSortedSetDocValues(string field) => null;
    public override IBits? GetDocsWithField(string field) => null;
    public override NumericDocValues? GetNormValues(string field) => null;
    public override Fields? GetTermVectors(int docID) => null;
    public override void Document(int docID, StoredFieldVisitor visitor) { }
    public override void CheckIntegrity() { }
    protected override void DoClose() { }

    private sealed class TableFields(string name, PostingsTable table, int docs) : Fields
    {
        public override IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)[name]).GetEnumerator();
        public override Terms? GetTerms(string field) => field == name ? new TableTerms(table, docs) : null;
        public override int Count => 1;
    }

    private sealed class TableTerms(PostingsTable table, int docs) : Terms
    {
        private int[]? _sorted;

        public override TermsEnum GetEnumerator() => new TableTermsEnum(table, _sorted ??= table.SortedTerms());
        public override IComparer<BytesRef> Comparer => BytesRef.UTF8SortedAsUnicodeComparer;
        public override long Count => table.Terms;
        public override long SumTotalTermFreq => -1;
        public override long SumDocFreq => table.Postings;
        public override int DocCount => docs;
        public override bool HasFreqs => false;
        public override bool HasOffsets => false;
        public override bool HasPositions => false;
        public override bool HasPayloads => false;
    }

    /// <summary>Forward only: a merge reads each term once, in order.</summary>
    private sealed class TableTermsEnum(PostingsTable table, int[] sorted) : TermsEnum
    {
        private readonly BytesRef _term = new();
        private int _at = -1;

        public override bool MoveNext()
        {
            if (++_at >= sorted.Length) return false;
            (_term.Bytes, _term.Offset, _term.Length) = table.TermSlice(sorted[_at]);
            return true;
        }

        [Obsolete("Lucene.NET's older spelling of MoveNext.")]
        public override BytesRef? Next() => MoveNext() ? _term : null;

        public override BytesRef Term => _term;
        public override IComparer<BytesRef> Comparer => BytesRef.UTF8SortedAsUnicodeComparer;
        public override int DocFreq => table.DocFreq(sorted[_at]);
        public override long TotalTermFreq => -1;
        public override long Ord => _at;

        public override DocsEnum Docs(IBits? liveDocs, DocsEnum? reuse, DocsFlags flags)
        {
            var docs = reuse as TableDocsEnum ?? new TableDocsEnum(table);
            docs.Reset(sorted[_at]);
            return docs;
        }

        public override DocsAndPositionsEnum? DocsAndPositions(IBits? liveDocs, DocsAndPositionsEnum? reuse, DocsAndPositionsFlags flags) => null;
        public override SeekStatus SeekCeil(BytesRef text) => throw new NotSupportedException();
        public override void SeekExact(long ord) => throw new NotSupportedException();
    }

    private sealed class TableDocsEnum(PostingsTable table) : DocsEnum
    {
        private int _term;
        private int _at;
        private int _doc;

        public void Reset(int term)
        {
            _term = term;
            _at = 0;
            _doc = -1;
        }

        public override int Freq => 1;
        public override int DocID => _doc;

        public override int NextDoc()
        {
            var docs = table.Docs(_term);
            return _doc = _at < docs.Length ? docs[_at++] : NO_MORE_DOCS;
        }

        public override int Advance(int target)
        {
            while (NextDoc() < target) { }
            return _doc;
        }

        public override long GetCost() => 1;
    }
}
