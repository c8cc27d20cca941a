using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Orgs;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;
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
        app.MapPost("/api/v1/query", Query).Requires(Permission.Read).RateLimited(RouteClass.Query).LimitsConcurrentQueries();
        app.MapPost("/api/v1/query/stream", Stream).Requires(Permission.Read).RateLimited(RouteClass.Query).LimitsConcurrentQueries();
        app.MapJobs();
        return app;
    }

    private static async Task<IResult> Query(HttpRequest request, IQueryService queries, ISearchJobs jobs, QueryRouting routing, CancellationToken ct)
    {
        var limits = routing.Current;
        var (query, error) = await ParseAsync(request, limits, ct);
        if (error is not null) return error;
        try
        {
            // RFC 7240: respond-async makes a job; respond-sync forbids one; otherwise large queries become jobs.
            var prefer = request.Headers["Prefer"].ToString().ToLowerInvariant();
            if (prefer.Contains("respond-async")) return JobEndpoints.Accepted(await jobs.SubmitAsync(query!, ct));
            var inlineRows = prefer.Contains("respond-sync") ? long.MaxValue : limits.AutoAsyncThresholdRows;
            await using var cursor = await queries.OpenUnlessLargerAsync(query!, inlineRows, ct);
            if (cursor is null) return JobEndpoints.Accepted(await jobs.SubmitAsync(query!, ct));
            // The rows are written as JSON as they come, so the answer's size is known exactly and bounded.
            var rows = new ArrayBufferWriter<byte>(16 * 1024);
            await using (var writer = new Utf8JsonWriter(rows))
            {
                writer.WriteStartArray();
                await foreach (var row in cursor.ReadRowsAsync(ct))
                {
                    JsonSerializer.Serialize(writer, row, GatewayJson.Options);
                    if (writer.BytesPending + rows.WrittenCount <= limits.MaxResultBytes) continue;
                    return ApiError.Result(413, "result_too_large",
                        $"the answer is larger than {limits.MaxResultBytes >> 20} MiB (querier.max_result_mb): add a " +
                        "LIMIT, read it from /api/v1/query/stream, or run it as an async job (Prefer: respond-async)");
                }
                writer.WriteEndArray();
            }
            var stats = cursor.Stats;
            return new RawRowsResult(cursor.Columns, rows, stats);
        }
        catch (QueryException e)
        {
            return Failed(request.HttpContext.Response, e);
        }
    }

    /// <summary>The /api/v1/query answer around rows already written as a JSON array.</summary>
    private sealed class RawRowsResult(
        IReadOnlyList<QueryColumn> columns, ArrayBufferWriter<byte> rows, QueryStats stats) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await using var w = new Utf8JsonWriter(context.Response.BodyWriter);
            w.WriteStartObject();
            w.WritePropertyName("columns");
            JsonSerializer.Serialize(w, columns.Select(c => new { name = c.Name, type = c.Type }), GatewayJson.Options);
            w.WritePropertyName("rows");
            w.WriteRawValue(rows.WrittenSpan, skipInputValidation: true);
            w.WriteNumber("scanned_rows", stats.ScannedRows);
            w.WriteNumber("scanned_bytes", stats.ScannedBytes);
            w.WriteNumber("scanned_files", stats.ScannedFiles);
            w.WriteNumber("took_ms", stats.TookMs);
            if (stats.Federation is { } federation)
            {
                w.WritePropertyName("federation");
                JsonSerializer.Serialize(w, Describe(federation), GatewayJson.Options);
            }
            w.WriteEndObject();
            await w.FlushAsync();
        }
    }

    /// <summary>First line the columns, then one JSON array per row, last line the stats; constant memory.</summary>
    private static async Task Stream(HttpContext context, IQueryService queries, QueryRouting routing,
        CancellationToken ct)
    {
        var (query, error) = await ParseAsync(context.Request, routing.Current, ct);
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
                    federation = stats.Federation is { } f ? Describe(f) : null,
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

    /// <summary>The answer's <c>federation</c> block: the clusters read, and those not read with the reason.</summary>
    private static object Describe(FederationStats f) => new
    {
        scanned_clusters = f.Scanned,
        degraded_clusters = f.Degraded.Keys,
        degraded_reason = f.Degraded,
    };

    /// <summary>
    /// <c>?clusters=local,sf,nyc</c>: the clusters a query reads. Naming anything but <c>local</c> needs the
    /// license's federated_search feature: refused here, before a job is made of it.
    /// </summary>
    private static (IReadOnlyList<string>? Clusters, IResult? Error) Clusters(HttpRequest request)
    {
        if (!request.Query.TryGetValue("clusters", out var values)) return (null, null);
        var names = values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries
                                                                | StringSplitOptions.RemoveEmptyEntries))
            .Select(n => n.ToLowerInvariant()).Distinct().ToList();
        if (names.Count == 0 || names.Count > MaxClusters)
            return (null, ApiError.Result(400, "invalid_clusters",
                $"clusters names 1 to {MaxClusters} clusters: local and remote clusters' names, comma-separated"));
        var license = request.HttpContext.RequestServices.GetService<ILicense>();
        if (ClusterTargets.AnyRemote(names) && license?.Allows(LicenseFeatures.FederatedSearch) != true)
            return (null, ApiError.Result(403, LicenseFeatures.RequiredCode,
                LicenseFeatures.FederationRefusal(license?.Current)));
        return (names, null);
    }

    private const int MaxClusters = 64;

    /// <summary>The query's error; a refusal for load (429 too_many_queries) says when to come back.</summary>
    private static IResult Failed(HttpResponse response, QueryException e)
    {
        if (e.Kind == QueryErrorKind.Busy) response.Headers.RetryAfter = "1";
        return ApiError.Result(QueryErrorStatus.Http(e.Kind), e.Code, e.Message);
    }

    private sealed record Body(string? Sql, JsonElement? StartTime, JsonElement? EndTime, long? Limit);

    private static async Task<(QueryRequest?, IResult?)> ParseAsync(HttpRequest request, QueryLimits limits,
        CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        // The body is read up to what a request at the SQL limit can need (the SQL, escaped, and the other fields).
        var maxBody = (long)limits.MaxSqlBytes * 6 + 4096;
        Body? body;
        try
        {
            using var bounded = await BodyReader.ReadAsync(request, maxBody, ct);
            body = JsonSerializer.Deserialize<Body>(bounded.Span, GatewayJson.Options);
        }
        catch (BodyReader.TooLargeException)
        {
            return (null, SqlTooLarge(limits));
        }
        catch (Exception e) when (e is BodyReader.UnsupportedEncodingException or InvalidDataException
                                      or ZstdSharp.ZstdException)
        {
            return (null, ApiError.Result(400, "invalid_request", $"the body could not be read: {e.Message}"));
        }
        catch (JsonException e)
        {
            return (null, ApiError.Result(400, "invalid_request", $"the body must be JSON {{\"sql\": ..., \"start_time\": ..., \"end_time\": ..., \"limit\": ...}}: {e.Message}"));
        }
        if (body?.Sql is { } text && System.Text.Encoding.UTF8.GetByteCount(text) > limits.MaxSqlBytes)
            return (null, SqlTooLarge(limits));
        if (string.IsNullOrWhiteSpace(body?.Sql)) return (null, ApiError.Result(400, "invalid_request", "\"sql\" is required"));
        if (body.Limit is < 0) return (null, ApiError.Result(400, "invalid_request", "\"limit\" must not be negative"));
        if (!Time(body.StartTime, out var start) || !Time(body.EndTime, out var end))
            return (null, ApiError.Result(400, "invalid_request", "start_time and end_time are µs since the epoch or RFC 3339 strings"));
        var (clusters, refused) = Clusters(request);
        if (refused is not null) return (null, refused);
        return (new QueryRequest(org, body.Sql, start, end, body.Limit, clusters), null);
    }

    private static IResult SqlTooLarge(QueryLimits limits) =>
        ApiError.Result(413, "sql_too_large",
            $"the SQL is longer than {limits.MaxSqlBytes / 1024} KiB (querier.max_sql_kb)");

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
