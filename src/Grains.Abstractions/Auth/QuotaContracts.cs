namespace MoleSignal.Grains.Abstractions.Auth;

/// <summary>The per-org quotas; 0 = unlimited.</summary>
public enum Quota : byte { IngestBytesPerDay, MaxStreams, StoredBytes, MaxConcurrentQueries }

public static class Quotas
{
    public static readonly Quota[] All = [Quota.IngestBytesPerDay, Quota.MaxStreams, Quota.StoredBytes,
        Quota.MaxConcurrentQueries];

    public static string Name(Quota q) => q switch
    {
        Quota.IngestBytesPerDay => "ingest_bytes_per_day",
        Quota.MaxStreams => "max_streams",
        Quota.StoredBytes => "stored_bytes",
        _ => "max_concurrent_queries",
    };

    public static bool TryParse(string name, out Quota quota)
    {
        foreach (var q in All)
            if (Name(q) == name) { quota = q; return true; }
        quota = default;
        return false;
    }
}

public sealed record QuotaState(Quota Quota, long Limit, bool Overridden, long Usage);

/// <summary>Refused: <see cref="Quota"/> would pass <see cref="Limit"/>.</summary>
public sealed record QuotaRefusal(Quota Quota, long Limit, long Usage);

public interface IQuotaService
{
    Task<IReadOnlyList<QuotaState>> GetAsync(string org, CancellationToken ct);

    /// <summary>Overrides (a value) or returns to the default (null) each quota named.</summary>
    Task SetAsync(Principal actor, string org, IReadOnlyDictionary<Quota, long?> values, string client,
        CancellationToken ct);

    /// <summary>Null when <paramref name="bytes"/> more into <paramref name="stream"/> stays within every
    /// quota.</summary>
    ValueTask<QuotaRefusal?> CheckIngestAsync(string org, string streamType, string stream, long bytes,
        CancellationToken ct);

    /// <summary>Counts bytes an accepted request wrote.</summary>
    void RecordIngest(string org, long bytes);

    /// <summary>A slot of the org's concurrent queries, or the refusal; dispose the slot when the query ends.</summary>
    ValueTask<(IDisposable? Slot, QuotaRefusal? Refusal)> EnterQueryAsync(string org, CancellationToken ct);
}

public sealed record SecretInfo(string Id, string Name, long CreatedAtMicros)
{
    /// <summary>How later features (webhooks, remote clusters, SMTP) refer to it.</summary>
    public string Reference => SecretReferences.CipherKeys(Id);
}

/// <summary>Secrets sealed at rest; the API never returns a plaintext, only features that use one reveal it.</summary>
public interface ISecretStore
{
    Task<SecretInfo> PutAsync(Principal actor, string org, string name, string value, string client,
        CancellationToken ct);

    Task<IReadOnlyList<SecretInfo>> ListAsync(string org, CancellationToken ct);

    Task DeleteAsync(Principal actor, string org, string id, string client, CancellationToken ct);

    /// <summary>
    /// The plaintext of <c>cipher_keys:&lt;id&gt;</c> (a secret of <paramref name="org"/>) or <c>env:VAR</c>; for
    /// features, never for an API answer.
    /// </summary>
    Task<string?> RevealAsync(string org, string reference, CancellationToken ct);
}
