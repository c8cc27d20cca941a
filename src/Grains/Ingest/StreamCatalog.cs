using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Compaction;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Ingest;

/// <summary>Streams as the metadata store knows them, plus what their StreamGrains still buffer.</summary>
public sealed class StreamCatalog(StreamMetaStore meta, FileIndex files, StreamSettingsStore streamSettings,
    RetentionPolicy retention, LiveSettings<CompactionSettings> compaction, TimeProvider clock, IGrainFactory grains)
    : IStreamCatalog
{
    public async Task<IReadOnlyList<StreamInfo>> ListAsync(string org, CancellationToken ct = default)
    {
        var records = await meta.ListAsync(org, ct);
        var own = await streamSettings.RetentionOverridesAsync(ct);
        var infos = await Task.WhenAll(records.Select(r =>
        {
            var key = new StreamKey(r.Org, r.Type, r.Stream);
            return Describe(r, own.TryGetValue(key, out var d) ? d : null, ct);
        }));
        return infos;
    }

    public async Task<StreamInfo?> GetAsync(StreamKey key, CancellationToken ct = default)
    {
        var record = await meta.GetAsync(key, ct);
        return record is null ? null : await Describe(record, await streamSettings.RetentionDaysAsync(key, ct), ct);
    }

    public async Task<StreamSettingsInfo?> GetSettingsAsync(StreamKey key, CancellationToken ct = default)
    {
        if (await meta.GetAsync(key, ct) is null) return null;
        var own = await streamSettings.RetentionDaysAsync(key, ct);
        var days = retention.Days(own);
        return new StreamSettingsInfo(key.Stream, key.Type, own, days, retention.OldestKeptDate(days));
    }

    public async Task<IReadOnlyList<SchemaVersionInfo>?> SchemaHistoryAsync(StreamKey key, int limit,
        CancellationToken ct = default)
    {
        if (await meta.GetAsync(key, ct) is null) return null;
        var versions = await meta.SchemaHistoryAsync(key, limit, ct);
        return versions.Select(v => new SchemaVersionInfo(v.Version, v.CreatedAtMicros,
            v.Schema.Select(f => new StreamField(f.Name, f.Type)).ToList())).ToList();
    }

    public async Task<StreamSettingsInfo?> SetRetentionAsync(StreamKey key, int? retentionDays,
        CancellationToken ct = default)
    {
        if (await meta.GetAsync(key, ct) is null) return null;
        await streamSettings.SetRetentionDaysAsync(key, retentionDays, ct);
        return await GetSettingsAsync(key, ct);
    }

    public async Task<StreamDeletion?> DeleteAsync(StreamKey key, CancellationToken ct = default)
    {
        if (await meta.GetAsync(key, ct) is null) return null;
        // Queries that began before the deletion may still read the files: their objects go after the delay.
        var after = Clock.NowMicros(clock) + Clock.Micros(compaction.Current.DeleteDelay);
        var dumped = await files.DumpedObjectsAsync(key, ct);
        var removed = await grains.GetGrain<IStreamGrain>(key.GrainKey).Delete(after, dumped);
        return new StreamDeletion(key.Stream, key.Type, removed);
    }

    private async Task<StreamInfo> Describe(StreamRecord r, int? ownRetention, CancellationToken ct)
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
        var days = retention.Days(ownRetention);
        return new StreamInfo(r.Stream, r.Type, totals.Rows + buffered.Records,
            totals.OriginalBytes + buffered.OriginalBytes,
            totals.CompressedBytes, totals.Files, first, last,
            schema.Fields.Select(f => new StreamField(f.Name, FieldKinds.Name(f.Kind))).ToList(), r.SchemaVersion,
            days, retention.OldestKeptDate(days));
    }
}
