namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>What the metadata store and the ingesters know about an org's streams.</summary>
public interface IStreamCatalog
{
    Task<IReadOnlyList<StreamInfo>> ListAsync(string org, CancellationToken ct = default);

    /// <summary>Null when the stream does not exist.</summary>
    Task<StreamInfo?> GetAsync(StreamKey key, CancellationToken ct = default);
}

public sealed record StreamField(string Name, string Type);

public sealed record StreamInfo(
    string Name,
    string Type,
    long Records,
    long OriginalBytes,
    long CompressedBytes,
    long Files,
    long? FirstTimestamp,
    long? LastTimestamp,
    IReadOnlyList<StreamField> Fields,
    int SchemaVersion);
