namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>An org's streams as the metadata store and the ingesters know them, their settings, their
/// deletion.</summary>
public interface IStreamCatalog
{
    Task<IReadOnlyList<StreamInfo>> ListAsync(string org, CancellationToken ct = default);

    /// <summary>Null when the stream does not exist.</summary>
    Task<StreamInfo?> GetAsync(StreamKey key, CancellationToken ct = default);

    /// <summary>Null when the stream does not exist.</summary>
    Task<StreamSettingsInfo?> GetSettingsAsync(StreamKey key, CancellationToken ct = default);

    /// <summary>The stream's stored schema versions, newest first, at most <paramref name="limit"/>; null when the
    /// stream does not exist. A version is written when a flush widens the schema.</summary>
    Task<IReadOnlyList<SchemaVersionInfo>?> SchemaHistoryAsync(StreamKey key, int limit,
        CancellationToken ct = default);

    /// <summary>Sets the stream's own retention (null: back to the default); null when the stream does not
    /// exist.</summary>
    Task<StreamSettingsInfo?> SetRetentionAsync(StreamKey key, int? retentionDays, CancellationToken ct = default);

    /// <summary>
    /// Deletes the stream: its buffer and WAL, its data files (their objects after the deletion delay), its schema
    /// and settings; the name can then be used again. Null when the stream does not exist.
    /// </summary>
    Task<StreamDeletion?> DeleteAsync(StreamKey key, CancellationToken ct = default);
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
    int SchemaVersion,
    /// <summary>Days kept (the stream's own or the default); 0 keeps everything.</summary>
    int RetentionDays,
    /// <summary>The first UTC day the retention keeps (older days go on the next sweep); null when all are
    /// kept.</summary>
    DateOnly? OldestKeptDay);

/// <summary>One stored schema of a stream: its number, when it was written (µs) and its fields.</summary>
public sealed record SchemaVersionInfo(int Version, long CreatedAtMicros, IReadOnlyList<StreamField> Fields);

public sealed record StreamSettingsInfo(
    string Name,
    string Type,
    /// <summary>The stream's own retention; null follows the default.</summary>
    int? OwnRetentionDays,
    int RetentionDays,
    DateOnly? OldestKeptDay);

public sealed record StreamDeletion(string Name, string Type, long Files);
