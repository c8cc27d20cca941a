using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Ingest;

/// <summary>Streams as the metadata store knows them, plus what their StreamGrains still buffer.</summary>
public sealed class StreamCatalog(StreamMetaStore meta, IGrainFactory grains) : IStreamCatalog
{
    public async Task<IReadOnlyList<StreamInfo>> ListAsync(string org, CancellationToken ct = default)
    {
        var records = await meta.ListAsync(org, ct);
        var infos = await Task.WhenAll(records.Select(r => Describe(r, ct)));
        return infos;
    }

    public async Task<StreamInfo?> GetAsync(StreamKey key, CancellationToken ct = default)
    {
        var record = await meta.GetAsync(key, ct);
        return record is null ? null : await Describe(record, ct);
    }

    private async Task<StreamInfo> Describe(StreamRecord r, CancellationToken ct)
    {
        var key = new StreamKey(r.Org, r.Type, r.Stream);
        var buffered = await grains.GetGrain<IStreamGrain>(key.GrainKey).GetBufferStats();
        var totals = await meta.TotalsAsync(key, ct, buffered.BufferedFromSeq);
        var schema = new StreamSchema();
        schema.Load(r.Schema);
        foreach (var (name, kind) in buffered.Fields) schema.Merge([name], [StreamSchema.ParseKind(kind)]);
        long? first = totals.MinTs, last = totals.MaxTs;
        if (buffered.Records > 0)
        {
            first = first is null ? buffered.MinTimestamp : Math.Min(first.Value, buffered.MinTimestamp);
            last = last is null ? buffered.MaxTimestamp : Math.Max(last.Value, buffered.MaxTimestamp);
        }
        return new StreamInfo(r.Stream, r.Type, totals.Rows + buffered.Records, totals.OriginalBytes + buffered.OriginalBytes,
            totals.CompressedBytes, totals.Files, first, last,
            schema.Fields.Select(f => new StreamField(f.Name, FieldKinds.Name(f.Kind))).ToList(), r.SchemaVersion);
    }
}
