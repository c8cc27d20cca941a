using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Streams;

/// <summary><c>GET /api/v1/streams</c> and <c>GET /api/v1/streams/{stream}/schema</c> for the caller's org.</summary>
public static class StreamEndpoints
{
    public static IEndpointRouteBuilder MapStreams(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/streams", List).Requires(Permission.Read);
        app.MapGet("/api/v1/streams/{stream}/schema", Schema).Requires(Permission.Read);
        return app;
    }

    private static async Task<IResult> List(HttpRequest request, IStreamCatalog catalog, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        var streams = await catalog.ListAsync(org, ct);
        return Results.Json(new { streams = streams.Select(Describe) }, GatewayJson.Options);
    }

    private static async Task<IResult> Schema(string stream, HttpRequest request, IStreamCatalog catalog, CancellationToken ct)
    {
        var org = OrgHeader.Current(request);
        var name = NameRules.Normalize(stream);
        var type = request.Query.TryGetValue("type", out var t) && t.Count > 0 ? t[0]!.ToLowerInvariant() : "logs";
        if (name is null || !StreamKey.Types.Contains(type))
            return ApiError.Result(400, "invalid_stream", "stream name must match ^[a-z0-9][a-z0-9_-]{0,127}$ and type be logs, metrics or traces");
        var info = await catalog.GetAsync(new StreamKey(org, type, name), ct);
        if (info is null) return ApiError.Result(404, "stream_not_found", $"no {type} stream '{name}' in org '{org}'");
        return Results.Json(new { name = info.Name, type = info.Type, schema_version = info.SchemaVersion, fields = info.Fields }, GatewayJson.Options);
    }

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
        fields = s.Fields,
    };
}
