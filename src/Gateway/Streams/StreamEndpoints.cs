using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Streams;

/// <summary>
/// The caller's org's streams: list, schema, settings (retention), deletion. A stream is named by the path and
/// its type by <c>?type=</c> (logs when absent).
/// </summary>
public static class StreamEndpoints
{
    /// <summary>A retention longer than this is a typo, not a policy (0 keeps everything).</summary>
    public const int MaxRetentionDays = 36_500;

    /// <summary>The most schema versions one history answer holds.</summary>
    public const int MaxHistoryVersions = 100;

    public static IEndpointRouteBuilder MapStreams(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/streams", List).Requires(Permission.Read);
        app.MapGet("/api/v1/streams/{stream}/schema", Schema).Requires(Permission.Read);
        app.MapGet("/api/v1/streams/{stream}/schema/history", SchemaHistory).Requires(Permission.Read);
        app.MapGet("/api/v1/streams/{stream}/settings", GetSettings).Requires(Permission.Read);
        app.MapPut("/api/v1/streams/{stream}/settings", SetSettings).Requires(Permission.Admin);
        app.MapDelete("/api/v1/streams/{stream}", Delete).Requires(Permission.Admin);
        return app;
    }

    private static async Task<IResult> List(HttpRequest request, IStreamCatalog catalog, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        var streams = await catalog.ListAsync(org, ct);
        return Results.Json(new { streams = streams.Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> Schema(string stream, HttpRequest request, IStreamCatalog catalog,
        CancellationToken ct)
    {
        if (Key(request, stream) is not { } key) return InvalidStream();
        var info = await catalog.GetAsync(key, ct);
        if (info is null) return NotFound(key);
        return Results.Json(
            new { name = info.Name, type = info.Type, schema_version = info.SchemaVersion, fields = info.Fields },
            GatewayJson.Options);
    }

    /// <summary>The stored schema versions, newest first: <c>?limit=</c> of them (default and most
    /// <see cref="MaxHistoryVersions"/>).</summary>
    private static async Task<IResult> SchemaHistory(string stream, HttpRequest request, IStreamCatalog catalog,
        int? limit, CancellationToken ct)
    {
        if (Key(request, stream) is not { } key) return InvalidStream();
        if (limit is < 1 or > MaxHistoryVersions)
            return ApiError.Result(400, "invalid_limit", $"limit is 1 to {MaxHistoryVersions}");
        var versions = await catalog.SchemaHistoryAsync(key, limit ?? MaxHistoryVersions, ct);
        if (versions is null) return NotFound(key);
        return Results.Json(new
        {
            name = key.Stream, type = key.Type,
            versions = versions.Select(v => new { version = v.Version, created_at = v.CreatedAtMicros,
                fields = v.Fields }),
        }, GatewayJson.Options);
    }

    private static async Task<IResult> GetSettings(string stream, HttpRequest request, IStreamCatalog catalog,
        CancellationToken ct)
    {
        if (Key(request, stream) is not { } key) return InvalidStream();
        return await catalog.GetSettingsAsync(key, ct) is { } settings ? Settings(settings) : NotFound(key);
    }

    /// <summary>Body: <c>{"retention_days": 30}</c>; null returns the stream to
    /// <c>[compactor].retention_days</c>.</summary>
    private static async Task<IResult> SetSettings(string stream, HttpContext ctx, IStreamCatalog catalog,
        IAuditLog audit, CancellationToken ct)
    {
        if (Key(ctx.Request, stream) is not { } key) return InvalidStream();
        var body = await AdminBody.ReadAsync<Dictionary<string, JsonElement>>(ctx.Request, ct);
        int? days = null;
        var given = false;
        foreach (var (name, value) in body)
        {
            if (name != "retention_days")
                return ApiError.Result(400, "invalid_settings",
                    $"unknown setting '{name}'; settings are retention_days");
            given = true;
            if (value.ValueKind == JsonValueKind.Null) continue;
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n) || n < 0
                || n > MaxRetentionDays)
                return ApiError.Result(400, "invalid_settings", "retention_days is a whole number of days from 0 " +
                    $"(keep everything) to {MaxRetentionDays}, or null");
            days = n;
        }
        if (!given)
            return ApiError.Result(400, "invalid_settings", "the body names no setting; settings are retention_days");
        var settings = await catalog.SetRetentionAsync(key, days, ct);
        audit.Record(RequestAuth.Principal(ctx).Actor, key.Org, "stream_settings", $"{key.Type}/{key.Stream}",
            RequestAuth.Client(ctx), settings is null ? "not_found" : "ok");
        return settings is null ? NotFound(key) : Settings(settings);
    }

    private static async Task<IResult> Delete(string stream, HttpContext ctx, IStreamCatalog catalog, IAuditLog audit,
        CancellationToken ct)
    {
        if (Key(ctx.Request, stream) is not { } key) return InvalidStream();
        var deleted = await catalog.DeleteAsync(key, ct);
        audit.Record(RequestAuth.Principal(ctx).Actor, key.Org, "stream_delete", $"{key.Type}/{key.Stream}",
            RequestAuth.Client(ctx), deleted is null ? "not_found" : "ok");
        if (deleted is null) return NotFound(key);
        return Results.Json(new { name = deleted.Name, type = deleted.Type, deleted = true, files = deleted.Files },
            GatewayJson.Options);
    }

    /// <summary>The stream the path and <c>?type=</c> name in the caller's org; null when either is not a valid
    /// name (<see cref="InvalidStreamMessage"/>).</summary>
    internal static StreamKey? Key(HttpRequest request, string stream)
    {
        var name = NameRules.Normalize(stream);
        var type = request.Query.TryGetValue("type", out var t) && t.Count > 0 ? t[0]!.ToLowerInvariant() : "logs";
        return name is null || !StreamKey.Types.Contains(type)
            ? null
            : new StreamKey(OrgHeader.Current(request), type, name);
    }

    internal const string InvalidStreamMessage =
        "stream name must match ^[a-z0-9][a-z0-9_-]{0,127}$ and type be logs, metrics or traces";

    private static IResult InvalidStream() => ApiError.Result(400, "invalid_stream", InvalidStreamMessage);

    private static IResult NotFound(StreamKey key) =>
        ApiError.Result(404, "stream_not_found", $"no {key.Type} stream '{key.Stream}' in org '{key.Org}'");

    private static IResult Settings(StreamSettingsInfo s) => Results.Json(new
    {
        name = s.Name,
        type = s.Type,
        retention_days = s.RetentionDays,
        retention_source = s.OwnRetentionDays is null ? "default" : "stream",
        oldest_kept_day = s.OldestKeptDay,
    }, GatewayJson.Options);

    private static object Describe(StreamInfo s) => new
    {
        name = s.Name,
        type = s.Type,
        records = s.Records,
        original_bytes = s.OriginalBytes,
        compressed_bytes = s.CompressedBytes,
        files = s.Files,
        first_timestamp = s.FirstTimestamp,
        last_timestamp = s.LastTimestamp,
        schema_version = s.SchemaVersion,
        retention_days = s.RetentionDays,
        oldest_kept_day = s.OldestKeptDay,
        fields = s.Fields,
    };
}
