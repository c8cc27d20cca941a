using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest.Loki;

/// <summary>
/// Loki push: <c>/loki/api/v1/push</c> and, as OpenObserve serves it, <c>/api/{org}/loki/api/v1/push</c>.
/// Protobuf (snappy) or JSON (gzip allowed). Each entry is a row: <c>message</c> is its line, its stream's labels
/// and its structured metadata are fields, <c>_timestamp</c> its time. The logs stream is <c>?stream=</c>, else the
/// entry's <c>stream_name</c> label (not kept as a field), else <c>default</c>. 204 when every entry is written.
/// </summary>
public static class LokiEndpoints
{
    public const string StreamLabel = "stream_name";

    public static IEndpointRouteBuilder MapLoki(this IEndpointRouteBuilder app)
    {
        app.MapPost("/loki/api/v1/push", PushAsync).Requires(Permission.Ingest).RateLimited(RouteClass.Ingest);
        app.MapPost("/api/{org}/loki/api/v1/push", PushAsync)
            .Requires(Permission.Ingest, "org").RateLimited(RouteClass.Ingest);
        return app;
    }

    private static async Task<IResult> PushAsync(HttpRequest request, IngestPipeline pipeline, CancellationToken ct)
    {
        var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        var protobuf = type == "application/x-protobuf";
        if (!protobuf && type != "application/json")
            return ApiError.Result(415, "unsupported_media_type",
                "Content-Type must be application/x-protobuf (snappy) or application/json");
        if (IngestRequest.Options(request, out var fixedStream, out var options) is { } bad) return bad.ToApiError();
        using var body = await IngestBody.ReadAsync(request, pipeline.Limits, ct, snappy: protobuf);
        if (body.Failure is { } failure) return failure.ToApiError();
        var streams = new List<LokiStream>();
        if ((protobuf ? LokiWire.Read(body.Span, streams) : LokiPush.FromJson(body.Span, streams))
            is { } unreadable)
            return ApiError.Result(400, protobuf ? "invalid_protobuf" : "invalid_json", unreadable);

        var byStream = new Dictionary<string, List<LokiStream>>(StringComparer.Ordinal);
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in streams)
        {
            if (s.Count == 0) continue;
            var name = fixedStream;
            if (name is null)
            {
                var label = s.Labels.Find(l => l.Key == StreamLabel).Value ?? IngestRequest.DefaultStream;
                if ((name = NameRules.Normalize(label)) is null)
                    return ApiError.Result(400, "invalid_stream",
                        $"{StreamLabel} \"{label}\": {IngestRequest.StreamRule}");
            }
            if (!byStream.TryGetValue(name, out var list)) byStream[name] = list = [];
            list.Add(s);
            bytes[name] = bytes.GetValueOrDefault(name) + Size(s);
        }
        if (byStream.Count == 0) return Results.NoContent();
        var parts = byStream.Select(p => new StreamPart(p.Key, bytes[p.Key], b => Fill(b, body, p.Value))).ToList();
        var outcomes = await pipeline.IngestAllAsync(OrgHeader.Current(request), StreamKey.Logs,
            IngestRequest.CreatesOrg(request), parts, options, ct);
        return StreamParts.NoContentAnswer(outcomes, request.HttpContext.Response,
            protobuf ? "invalid_protobuf" : "invalid_json");
    }

    private static long Size(LokiStream s)
    {
        long n = 0;
        if (s.Wire is { } wire)
            foreach (var (_, length) in wire) n += length;
        else
            foreach (var e in s.Entries) n += e.Line.Length;
        return n;
    }

    private static string? Fill(RecordBuilder b, IngestBody body, List<LokiStream> streams)
    {
        using var text = new TextFields();
        var labels = new List<(byte[]? Key, byte[] Value)>();
        var index = 0;
        foreach (var s in streams)
        {
            // A stream's labels are the same for each of its entries: made keys once.
            labels.Clear();
            foreach (var (name, value) in s.Labels)
                if (name != StreamLabel) labels.Add((TextFields.Key(name), Encoding.UTF8.GetBytes(value)));
            if (s.Wire is not null)
            {
                LokiWire.Fill(b, body.Span, s, labels, ref index);
                continue;
            }
            foreach (var e in s.Entries)
            {
                b.BeginRecord();
                if (e.Micros > 0) b.SetTimestamp(e.Micros);
                text.AddString(b, "message"u8, e.Line);
                var size = e.Line.Length;
                size += LokiWire.AddLabels(b, labels);
                if (e.Metadata is { } metadata)
                    foreach (var (name, value) in metadata)
                    {
                        text.AddNamed(b, name, value);
                        size += name.Length + value.Length;
                    }
                b.EndRecord(index++, size);
            }
        }
        return null;
    }
}
