using Lucene.Net.Codecs;
using Lucene.Net.Index;
using Lucene.Net.Util;

namespace MoleSignal.Grains.Index;

/// <summary>
/// A <see cref="PostingsTable"/> as a Lucene reader of one DOCS_ONLY field with nothing stored, so that
/// <c>IndexWriter.AddIndexes</c> makes it a segment (segment info, field infos, commit) whose postings
/// <see cref="TableCodec"/> writes from the table: the sidecar's files are those of any Lucene index, doc ids
/// the table's (row numbers).
/// </summary>
internal sealed class PostingsReader(string fieldName, PostingsTable table, int docs) : AtomicReader
{
    private readonly FieldInfos _infos = new([
        new FieldInfo(fieldName, indexed: true, number: 0, storeTermVector: false, omitNorms: true, storePayloads: false,
            IndexOptions.DOCS_ONLY, DocValuesType.NONE, DocValuesType.NONE, null),
    ]);

    public override Fields Fields => NoFields.Instance;

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

    /// <summary>Lucene reaches the postings only through <see cref="WriteTo"/>: a merge builds its view of the
    /// fields without reading them, and <see cref="TableCodec"/> writes the table instead.</summary>
    private sealed class NoFields : Fields
    {
        public static readonly NoFields Instance = new();
        public override IEnumerator<string> GetEnumerator() => throw Unsupported();
        public override Terms GetTerms(string field) => throw Unsupported();
        public override int Count => 1;
        private static NotSupportedException Unsupported() => new("a PostingsReader is written by TableCodec, never read");
    }
}
