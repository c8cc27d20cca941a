using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Jobs;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Query;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Jobs;

public sealed record SearchJobSettings(int Workers, TimeSpan IdlePoll, TimeSpan CleanupInterval, TimeSpan Lease, int MaxAttempts, TimeSpan Keep);

/// <summary>
/// Runs one claimed job: the query (no row limit) into NDJSON (one JSON object per row) at
/// <c>{org}/search_jobs/{job_id}.ndjson</c>, then done or failed. The lease is renewed while it runs; when renewal
/// fails (the job was cancelled, or its lease lapsed and another node took it) the query is cancelled.
/// </summary>
public sealed class SearchJobRunner(
    SearchJobStore jobs, IQueryService queries, IObjectStore store, LiveSettings<QuerySettings> settings,
    ILogger<SearchJobRunner> log)
{
    public static string ResultKey(string org, string jobId) => ObjectKey.SearchJobResult(org, jobId);

    public async Task RunAsync(SearchJob job, string node, TimeSpan lease, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var keepAlive = Task.Run(async () =>
        {
            try
            {
                while (!cancel.IsCancellationRequested)
                {
                    await Task.Delay(lease / 3, cancel.Token);
                    if (!await jobs.RenewAsync(job.JobId, node, lease, cancel.Token)) await cancel.CancelAsync();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        try
        {
            // The result streams to a scratch file and is uploaded from it (multipart when large): a job's
            // result is never held in memory, however many rows it has.
            var dir = Path.Combine(Path.GetFullPath(settings.Current.TempDir), "_jobs");
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, job.JobId + ".ndjson");
            var key = ResultKey(job.Org, job.JobId);
            long rows;
            try
            {
                rows = await ExecuteAsync(job.Request with { Limit = 0 }, path, cancel.Token);
                await store.PutFileAsync(key, path, cancel.Token);
            }
            finally
            {
                File.Delete(path); // the put used it up unless it failed
            }
            if (!await jobs.MarkDoneAsync(job.JobId, node, key, rows, CancellationToken.None))
                await store.DeleteAsync(key, CancellationToken.None); // cancelled meanwhile
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            log.LogInformation("search job {Job} cancelled", job.JobId);
        }
        catch (QueryException e) when (e.Code == "cancelled" && !stopping.IsCancellationRequested)
        {
            log.LogInformation("search job {Job} cancelled", job.JobId);
        }
        catch (QueryException e)
        {
            await jobs.MarkFailedAsync(job.JobId, node, $"{e.Code}: {e.Message}", CancellationToken.None);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            log.LogWarning("search job {Job} failed: {Error}", job.JobId, e.Message);
            await jobs.MarkFailedAsync(job.JobId, node, e.Message, CancellationToken.None);
        }
        finally
        {
            await cancel.CancelAsync();
            await keepAlive;
        }
    }

    private async Task<long> ExecuteAsync(QueryRequest request, string path, CancellationToken ct)
    {
        await using var cursor = await queries.OpenAsync(request, ct);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16,
            FileOptions.Asynchronous);
        await using var writer = new Utf8JsonWriter(file);
        long rows = 0;
        var names = cursor.Columns.Select(c => JsonEncodedText.Encode(c.Name)).ToArray();
        await foreach (var row in cursor.ReadRowsAsync(ct))
        {
            writer.WriteStartObject();
            for (var i = 0; i < row.Length; i++)
            {
                writer.WritePropertyName(names[i]);
                JsonSerializer.Serialize(writer, row[i]);
            }
            writer.WriteEndObject();
            await writer.FlushAsync(ct);
            writer.Reset();
            file.WriteByte((byte)'\n');
            rows++;
        }
        await file.FlushAsync(ct);
        return rows;
    }
}
