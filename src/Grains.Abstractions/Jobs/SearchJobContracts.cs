using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Abstractions.Jobs;

public static class SearchJobStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

public sealed record SearchJob(
    string JobId,
    string Org,
    string State,
    long CreatedAtMicros,
    long? StartedAtMicros,
    long? FinishedAtMicros,
    long ExpiresAtMicros,
    string? ClaimedBy,
    int Attempts,
    string? ResultObjectKey,
    long? Rows,
    string? Error,
    QueryRequest Request);

/// <summary>Async queries: submit, follow, read the result, cancel. Another org's job is never found.</summary>
public interface ISearchJobs
{
    Task<SearchJob> SubmitAsync(QueryRequest request, CancellationToken ct);
    Task<SearchJob?> GetAsync(string org, string jobId, CancellationToken ct);
    Task<IReadOnlyList<SearchJob>> ListAsync(string org, CancellationToken ct);
    /// <summary>False when the job is not found or already finished.</summary>
    Task<bool> CancelAsync(string org, string jobId, CancellationToken ct);
    /// <summary>The NDJSON result of a done job, or null.</summary>
    Task<byte[]?> ResultAsync(string org, string jobId, CancellationToken ct);
}
