using System.Data.Common;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Jobs;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Jobs;

/// <summary>
/// The <c>search_jobs</c> table. A claim is one atomic statement: <c>FOR UPDATE SKIP LOCKED</c> on Postgres (workers
/// of many processes skip each other's rows), an <c>UPDATE ... RETURNING</c> on SQLite (one writer at a time), so a
/// job is never claimed twice. A claim holds a lease; a job whose lease ran out (its process died) goes back to
/// pending until its attempts are used up.
/// </summary>
public sealed class SearchJobStore(MetaStore store)
{
    private const string Columns = "job_id, org, state, request_json, created_at_micros, started_at_micros, finished_at_micros, " +
                                   "expires_at_micros, claimed_by, attempts, result_object_key, rows, error";

    public static long NowMicros => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    public async Task<SearchJob> CreateAsync(QueryRequest request, TimeSpan keep, CancellationToken ct)
    {
        var id = Guid.NewGuid().ToString("N");
        var now = NowMicros;
        await store.ExecuteAsync($"""
            INSERT INTO search_jobs ({Columns})
            VALUES (@id, @org, 'pending', @req, @now, NULL, NULL, @exp, NULL, 0, NULL, NULL, NULL)
            """, ct, ("id", id), ("org", request.Org), ("req", JsonSerializer.Serialize(request)), ("now", now), ("exp", now + (long)keep.TotalMicroseconds));
        return (await GetAsync(request.Org, id, ct))!;
    }

    public async Task<SearchJob?> GetAsync(string org, string jobId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {Columns} FROM search_jobs WHERE org = @org AND job_id = @id", ct, ("org", org), ("id", jobId))).FirstOrDefault();

    public Task<List<SearchJob>> ListAsync(string org, CancellationToken ct) =>
        QueryAsync($"SELECT {Columns} FROM search_jobs WHERE org = @org ORDER BY created_at_micros DESC LIMIT 1000", ct, ("org", org));

    /// <summary>The oldest pending job, now running on <paramref name="node"/> with a lease; null when none waits.</summary>
    public async Task<SearchJob?> ClaimAsync(string node, TimeSpan lease, CancellationToken ct)
    {
        var now = NowMicros;
        var pick = store.Dialect == MetaDialect.Postgres
            ? "SELECT job_id FROM search_jobs WHERE state = 'pending' ORDER BY created_at_micros LIMIT 1 FOR UPDATE SKIP LOCKED"
            : "SELECT job_id FROM search_jobs WHERE state = 'pending' ORDER BY created_at_micros LIMIT 1";
        var claimed = await QueryAsync($"""
            UPDATE search_jobs SET state = 'running', claimed_by = @node, started_at_micros = @now,
                lease_until_micros = @lease, attempts = attempts + 1
            WHERE job_id = ({pick}) AND state = 'pending'
            RETURNING {Columns}
            """, ct, ("node", node), ("now", now), ("lease", now + (long)lease.TotalMicroseconds));
        return claimed.FirstOrDefault();
    }

    /// <summary>Extends the lease; false when the job is no longer this node's running job (cancelled, taken back).</summary>
    public async Task<bool> RenewAsync(string jobId, string node, TimeSpan lease, CancellationToken ct) =>
        await store.ExecuteAsync("UPDATE search_jobs SET lease_until_micros = @lease WHERE job_id = @id AND claimed_by = @node AND state = 'running'",
            ct, ("lease", NowMicros + (long)lease.TotalMicroseconds), ("id", jobId), ("node", node)) == 1;

    public async Task<bool> MarkDoneAsync(string jobId, string node, string resultKey, long rows, CancellationToken ct) =>
        await store.ExecuteAsync("""
            UPDATE search_jobs SET state = 'done', finished_at_micros = @now, result_object_key = @key, rows = @rows, lease_until_micros = NULL
            WHERE job_id = @id AND claimed_by = @node AND state = 'running'
            """, ct, ("now", NowMicros), ("key", resultKey), ("rows", rows), ("id", jobId), ("node", node)) == 1;

    public Task MarkFailedAsync(string jobId, string node, string error, CancellationToken ct) =>
        store.ExecuteAsync("""
            UPDATE search_jobs SET state = 'failed', finished_at_micros = @now, error = @err, lease_until_micros = NULL
            WHERE job_id = @id AND claimed_by = @node AND state = 'running'
            """, ct, ("now", NowMicros), ("err", error), ("id", jobId), ("node", node));

    public async Task<bool> CancelAsync(string org, string jobId, CancellationToken ct) =>
        await store.ExecuteAsync("""
            UPDATE search_jobs SET state = 'cancelled', finished_at_micros = @now, lease_until_micros = NULL
            WHERE org = @org AND job_id = @id AND state IN ('pending', 'running')
            """, ct, ("now", NowMicros), ("org", org), ("id", jobId)) == 1;

    /// <summary>Running jobs whose lease ran out go back to pending, or fail once they used their attempts.</summary>
    public async Task<int> RequeueExpiredLeasesAsync(int maxAttempts, CancellationToken ct)
    {
        var now = NowMicros;
        var failed = await store.ExecuteAsync("""
            UPDATE search_jobs SET state = 'failed', finished_at_micros = @now, error = 'the process running it stopped too often', lease_until_micros = NULL
            WHERE state = 'running' AND lease_until_micros < @now AND attempts >= @max
            """, ct, ("now", now), ("max", maxAttempts));
        var requeued = await store.ExecuteAsync("""
            UPDATE search_jobs SET state = 'pending', claimed_by = NULL, lease_until_micros = NULL
            WHERE state = 'running' AND lease_until_micros < @now
            """, ct, ("now", now));
        return failed + requeued;
    }

    /// <summary>Deletes expired rows; returns their result objects to delete.</summary>
    public async Task<List<string>> DeleteExpiredAsync(CancellationToken ct)
    {
        var now = NowMicros;
        var expired = await QueryAsync($"SELECT {Columns} FROM search_jobs WHERE expires_at_micros < @now", ct, ("now", now));
        if (expired.Count > 0) await store.ExecuteAsync("DELETE FROM search_jobs WHERE expires_at_micros < @now", ct, ("now", now));
        return expired.Where(j => j.ResultObjectKey is not null).Select(j => j.ResultObjectKey!).ToList();
    }

    private async Task<List<SearchJob>> QueryAsync(string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var conn = await store.OpenAsync(ct);
        await using var cmd = MetaStore.Command(conn, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<SearchJob>();
        while (await r.ReadAsync(ct)) list.Add(Read(r));
        return list;
    }

    private static SearchJob Read(DbDataReader r)
    {
        long? L(int i) => r.IsDBNull(i) ? null : Convert.ToInt64(r.GetValue(i));
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new SearchJob(r.GetString(0), r.GetString(1), r.GetString(2), Convert.ToInt64(r.GetValue(4)), L(5), L(6),
            Convert.ToInt64(r.GetValue(7)), S(8), Convert.ToInt32(r.GetValue(9)), S(10), L(11), S(12),
            JsonSerializer.Deserialize<QueryRequest>(r.GetString(3))!);
    }
}
