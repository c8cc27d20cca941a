using Lucene.Net.Codecs;
using Lucene.Net.Codecs.Lucene46;
using Lucene.Net.Index;

namespace MoleSignal.Grains.Index;

/// <summary>
/// Lucene's default codec, except that merging a lone <see cref="PostingsReader"/> hands its table term by term to
/// the postings writer: the generic merge walks every posting through three layers of enumerators and a bitset
/// (a fifth of the sidecar's Lucene time). It writes under the stock codec's name and with its formats, so the
/// stock codec reads the segment back (a test reads every term of a sidecar with a plain DirectoryReader).
/// </summary>
[CodecName("Lucene46")]
internal sealed class TableCodec : FilterCodec
{
    private readonly PostingsFormat _postings;

    public TableCodec() : base(new Lucene46Codec()) => _postings = new TablePostingsFormat(m_delegate.PostingsFormat);

    public override PostingsFormat PostingsFormat => _postings;

    [PostingsFormatName("MoleSignalTable")] // never recorded: a segment names its codec, each field its own format
    private sealed class TablePostingsFormat(PostingsFormat inner) : PostingsFormat
    {
        public override FieldsConsumer FieldsConsumer(SegmentWriteState state) => new TableFieldsConsumer(inner.FieldsConsumer(state));
        public override FieldsProducer FieldsProducer(SegmentReadState state) => inner.FieldsProducer(state);
    }

    private sealed class TableFieldsConsumer(FieldsConsumer inner) : FieldsConsumer
    {
        public override TermsConsumer AddField(FieldInfo field) => inner.AddField(field);

        public override void Merge(MergeState mergeState, Fields fields)
        {
            if (mergeState.Readers is [PostingsReader table]) table.WriteTo(this, mergeState.FieldInfos);
            else base.Merge(mergeState, fields);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
        }
    }
}
