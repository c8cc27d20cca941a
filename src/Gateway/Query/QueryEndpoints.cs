using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Grains.Abstractions.Jobs;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Gateway.Query;

/// <summary><c>POST /api/v1/query</c> (one JSON answer) and <c>POST /api/v1/query/stream</c> (NDJSON, streamed).</summary>
public static class QueryEndpoints
{
    public static IEndpointRouteBuilder MapQuery(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/query", Query).RateLimited(RouteClass.Query);
        app.MapPost("/api/v1/query/stream", Stream).RateLimited(RouteClass.Query);
        app.MapJobs();
        return app;
    }

    private static async Task<IResult> Query(HttpRequest request, IQueryService queries, ISearchJobs jobs, QueryRouting routing, CancellationToken ct)
    {
        var (query, error) = await ParseAsync(request, ct);
        if (error is not null) return error;
        try
        {
            // RFC 7240: respond-async makes a job; respond-sync forbids one; otherwise large queries become jobs.
            var prefer = request.Headers["Prefer"].ToString().ToLowerInvariant();
            if (prefer.Contains("respond-async")) return JobEndpoints.Accepted(await jobs.SubmitAsync(query!, ct));
            var inlineRows = prefer.Contains("respond-sync") ? long.MaxValue : routing.AutoAsyncThresholdRows;
            await using var cursor = await queries.OpenUnlessLargerAsync(query!, inlineRows, ct);
            if (cursor is null) return JobEndpoints.Accepted(await jobs.SubmitAsync(query!, ct));
            var rows = new List<object?[]>();
            await foreach (var row in cursor.ReadRowsAsync(ct)) rows.Add(row);
            var stats = cursor.Stats;
            return Results.Json(new
            {
                columns = cursor.Columns.Select(c => new { name = c.Name, type = c.Type }),
                rows,
                scanned_rows = stats.ScannedRows,
                scanned_bytes = stats.ScannedBytes,
                scanned_files = stats.ScannedFiles,
                took_ms = stats.TookMs,
            }, GatewayJson.Options);
        }
        catch (QueryException e)
        {
            return Failed(request.HttpContext.Response, e);
        }
    }

    /// <summary>First line the columns, then one JSON array per row, last line the stats; constant memory.</summary>
    private static async Task Stream(HttpContext context, IQueryService queries, CancellationToken ct)
    {
        var (query, error) = await ParseAsync(context.Request, ct);
        if (error is not null)
        {
            await error.ExecuteAsync(context);
            return;
        }
        IQueryCursor cursor;
        try
        {
            cursor = await queries.OpenAsync(query! with { Limit = query!.Limit ?? 0 }, ct);
        }
        catch (QueryException e)
        {
            await Failed(context.Response, e).ExecuteAsync(context);
            return;
        }
        await using (cursor)
        {
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            context.Response.ContentType = "application/x-ndjson";
            context.Response.Headers["X-Accel-Buffering"] = "no";
            var body = context.Response.BodyWriter;
            await using var writer = new Utf8JsonWriter(body);
            void Line(Action<Utf8JsonWriter> write)
            {
                write(writer);
                writer.Flush();
                writer.Reset();
                body.Write("\n"u8);
            }
            Line(w => JsonSerializer.Serialize(w, new { columns = cursor.Columns.Select(c => new { name = c.Name, type = c.Type }) }, GatewayJson.Options));
            var n = 0;
            try
            {
                await foreach (var row in cursor.ReadRowsAsync(ct))
                {
                    Line(w => JsonSerializer.Serialize(w, row, GatewayJson.Options));
                    if (++n % 1000 == 0) await body.FlushAsync(ct);
                }
                var stats = cursor.Stats;
                Line(w => JsonSerializer.Serialize(w, new
                {
                    scanned_rows = stats.ScannedRows,
                    scanned_bytes = stats.ScannedBytes,
                    scanned_files = stats.ScannedFiles,
                    took_ms = stats.TookMs,
                    rows = n,
                }, GatewayJson.Options));
            }
            catch (QueryException e)
            {
                // Headers are gone: the error becomes the last line.
                Line(w => JsonSerializer.Serialize(w, new ApiError(e.Code, e.Message), GatewayJson.Options));
            }
            await body.FlushAsync(ct);
        }
    }

    /// <summary>The query's error; a refusal for load (429 too_many_queries) says when to come back.</summary>
    private static IResult Failed(HttpResponse response, QueryException e)
    {
        if (e.Status is 429 or 503) response.Headers.RetryAfter = "1";
        return ApiError.Result(e.Status, e.Code, e.Message);
    }

    private sealed record Body(string? Sql, JsonElement? StartTime, JsonElement? EndTime, long? Limit);

    private static async Task<(QueryRequest?, IResult?)> ParseAsync(HttpRequest request, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        Body? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<Body>(request.Body, GatewayJson.Options, ct);
        }
        catch (JsonException e)
        {
            return (null, ApiError.Result(400, "invalid_request", $"the body must be JSON {{\"sql\": ..., \"start_time\": ..., \"end_time\": ..., \"limit\": ...}}: {e.Message}"));
        }
        if (string.IsNullOrWhiteSpace(body?.Sql)) return (null, ApiError.Result(400, "invalid_request", "\"sql\" is required"));
        if (body.Limit is < 0) return (null, ApiError.Result(400, "invalid_request", "\"limit\" must not be negative"));
        if (!Time(body.StartTime, out var start) || !Time(body.EndTime, out var end))
            return (null, ApiError.Result(400, "invalid_request", "start_time and end_time are µs since the epoch or RFC 3339 strings"));
        return (new QueryRequest(org, body.Sql, start, end, body.Limit), null);
    }

    private static bool Time(JsonElement? e, out long? micros)
    {
        micros = null;
        if (e is null || e.Value.ValueKind == JsonValueKind.Null) return true;
        if (e.Value.ValueKind == JsonValueKind.Number && e.Value.TryGetInt64(out var n))
        {
            micros = TimestampParser.Scale(n);
            return true;
        }
        if (e.Value.ValueKind == JsonValueKind.String && TimestampParser.TryFromString(e.Value.GetString()!, out var t))
        {
            micros = t;
            return true;
        }
        return false;
    }
}
