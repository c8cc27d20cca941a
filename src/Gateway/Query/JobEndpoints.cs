using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Jobs;

namespace MoleSignal.Gateway.Query;

/// <summary>When a query becomes a job: <c>Prefer: respond-async</c>, or an estimate over the threshold.</summary>
public sealed class QueryRouting(Func<QueryLimits> current)
{
    public QueryLimits Current => current();
}

/// <summary>The query request limits in force now ([querier]).</summary>
public sealed record QueryLimits(long AutoAsyncThresholdRows, int MaxSqlBytes, long MaxResultBytes);

/// <summary><c>/api/v1/query/jobs</c>: list, status, result (NDJSON, one object per row), cancel.</summary>
public static class JobEndpoints
{
    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/query/jobs", List).Requires(Permission.Read);
        app.MapGet("/api/v1/query/jobs/{id}", Get).Requires(Permission.Read);
        app.MapGet("/api/v1/query/jobs/{id}/result", Result).Requires(Permission.Read);
        app.MapDelete("/api/v1/query/jobs/{id}", Cancel).Requires(Permission.Read);
        return app;
    }

    public static string StatusUrl(string jobId) => $"/api/v1/query/jobs/{jobId}";

    public static IResult Accepted(SearchJob job) =>
        Results.Json(new { job_id = job.JobId, state = job.State, status_url = StatusUrl(job.JobId) }, GatewayJson.Options, statusCode: 202);

    private static object Describe(SearchJob j) => new
    {
        job_id = j.JobId,
        state = j.State,
        sql = j.Request.Sql,
        rows = j.Rows,
        error = j.Error,
        attempts = j.Attempts,
        created_at = j.CreatedAtMicros,
        started_at = j.StartedAtMicros,
        finished_at = j.FinishedAtMicros,
        expires_at = j.ExpiresAtMicros,
        status_url = StatusUrl(j.JobId),
        result_url = j.State == SearchJobStates.Done ? StatusUrl(j.JobId) + "/result" : null,
    };

    private static IResult NotFound(string id) => ApiError.Result(404, "job_not_found", $"no search job '{id}' in this org");

    private static async Task<IResult> List(HttpRequest request, ISearchJobs jobs, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        return Results.Json(new { jobs = (await jobs.ListAsync(org, ct)).Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> Get(string id, HttpRequest request, ISearchJobs jobs, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        return await jobs.GetAsync(org, id, ct) is { } job ? Results.Json(Describe(job), GatewayJson.Options) : NotFound(id);
    }

    private static async Task<IResult> Result(string id, HttpRequest request, ISearchJobs jobs, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        var job = await jobs.GetAsync(org, id, ct);
        if (job is null) return NotFound(id);
        if (job.State != SearchJobStates.Done)
            return ApiError.Result(409, "job_not_done", $"search job '{id}' is {job.State}");
        var bytes = await jobs.ResultAsync(org, id, ct);
        return bytes is null ? ApiError.Result(410, "result_gone", $"the result of search job '{id}' is no longer stored")
            : Results.Bytes(bytes, "application/x-ndjson");
    }

    private static async Task<IResult> Cancel(string id, HttpRequest request, ISearchJobs jobs, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        var job = await jobs.GetAsync(org, id, ct);
        if (job is null) return NotFound(id);
        if (!await jobs.CancelAsync(org, id, ct))
            return ApiError.Result(409, "job_finished", $"search job '{id}' is already {job.State}");
        return Results.Json(Describe((await jobs.GetAsync(org, id, ct))!), GatewayJson.Options);
    }
}
