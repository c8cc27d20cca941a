using MoleSignal.Grains.Abstractions.Jobs;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Jobs;

/// <summary>The async search API over <see cref="SearchJobStore"/>; results come from the object store.</summary>
public sealed class SearchJobs(SearchJobStore store, IObjectStore objects, SearchJobSettings settings) : ISearchJobs
{
    public Task<SearchJob> SubmitAsync(QueryRequest request, CancellationToken ct) => store.CreateAsync(request, settings.Keep, ct);

    public Task<SearchJob?> GetAsync(string org, string jobId, CancellationToken ct) => store.GetAsync(org, jobId, ct);

    public async Task<IReadOnlyList<SearchJob>> ListAsync(string org, CancellationToken ct) => await store.ListAsync(org, ct);

    public Task<bool> CancelAsync(string org, string jobId, CancellationToken ct) => store.CancelAsync(org, jobId, ct);

    public async Task<byte[]?> ResultAsync(string org, string jobId, CancellationToken ct)
    {
        var job = await store.GetAsync(org, jobId, ct);
        return job is { State: SearchJobStates.Done, ResultObjectKey: { } key } ? await objects.GetAsync(key, ct) : null;
    }
}
