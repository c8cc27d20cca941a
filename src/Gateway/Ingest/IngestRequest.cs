using System.IO.Compression;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest;

/// <summary>A request failure before any record is read, for each protocol to answer in its own shape.</summary>
public sealed record RequestFailure(int Status, string Code, string Message)
{
    public IResult ToApiError() => ApiError.Result(Status, Code, Message);
}

/// <summary>A request's body, decompressed, or why it could not be read.</summary>
public sealed class IngestBody : IDisposable
{
    private readonly BodyReader? _reader;

    private IngestBody(BodyReader? reader, RequestFailure? failure)
    {
        _reader = reader;
        Failure = failure;
    }

    public RequestFailure? Failure { get; }

    public int Length => _reader?.Length ?? 0;

    public ReadOnlySpan<byte> Span => _reader is null ? default : _reader.Span;

    /// <summary>Reads the body within the body limit; a body over it, in an unknown encoding or that does not
    /// decompress is a failure, not an exception.</summary>
    public static async Task<IngestBody> ReadAsync(HttpRequest request, IngestLimits limits, CancellationToken ct,
        bool snappy = false)
    {
        try
        {
            return new IngestBody(await BodyReader.ReadAsync(request, limits.MaxBodyBytes, ct, snappy), null);
        }
        catch (BodyReader.TooLargeException e)
        {
            return new IngestBody(null, new RequestFailure(413, "payload_too_large", e.Message));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413) // Kestrel's own limit, before decompression
        {
            return new IngestBody(null, new RequestFailure(413, "payload_too_large", e.Message));
        }
        catch (BodyReader.UnsupportedEncodingException e)
        {
            return new IngestBody(null, new RequestFailure(415, "unsupported_encoding", e.Message));
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException)
        {
            return new IngestBody(null, new RequestFailure(400, "bad_encoding",
                $"request body could not be decompressed: {e.Message}"));
        }
    }

    public void Dispose() => _reader?.Dispose();
}

/// <summary>Where a request's records go: the org of its principal, a checked stream name and type.</summary>
public static class IngestRequest
{
    /// <summary>The stream of a protocol request that names none (as OpenObserve).</summary>
    public const string DefaultStream = "default";

    public const string StreamRule = "stream name must match ^[a-z0-9][a-z0-9_-]{0,127}$ (after lowercasing)";

    /// <summary>The target, or the failure that names what is wrong.</summary>
    public static RequestFailure? Target(HttpRequest request, string stream, out IngestTarget target,
        string defaultType = StreamKey.Logs)
    {
        target = default;
        var name = NameRules.Normalize(stream);
        if (name is null) return new RequestFailure(400, "invalid_stream", StreamRule);
        var type = request.Query.TryGetValue("type", out var t) && t.Count > 0
            ? t[0]!.ToLowerInvariant()
            : defaultType;
        if (!StreamKey.Types.Contains(type))
            return new RequestFailure(400, "invalid_type", "type must be logs, metrics or traces");
        target = new IngestTarget(OrgHeader.Current(request), type, name);
        return null;
    }

    /// <summary>The stream a request asks for instead of its protocol's own choice: <c>?stream=</c>, else the
    /// <c>MS-Stream</c> header; null when neither is given.</summary>
    public static RequestFailure? AskedStream(HttpRequest request, out string? stream)
    {
        stream = null;
        var asked = Param(request, "stream", StreamHeader);
        if (asked is null) return null;
        stream = NameRules.Normalize(asked);
        return stream is null ? new RequestFailure(400, "invalid_stream", StreamRule) : null;
    }

    public const string StreamHeader = "MS-Stream";
    public const string MessageFieldHeader = "MS-Msg-Field";
    public const string TimeFieldHeader = "MS-Time-Field";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The asked stream (<see cref="AskedStream"/>) and the write options (<see cref="Write"/>).
    /// </summary>
    public static RequestFailure? Options(HttpRequest request, out string? stream, out WriteOptions options)
    {
        options = WriteOptions.None;
        return AskedStream(request, out stream) ?? Write(request, out options);
    }

    /// <summary>The field mapping (<see cref="Mapping"/>) and the <c>Idempotency-Key</c> header.</summary>
    public static RequestFailure? Write(HttpRequest request, out WriteOptions options)
    {
        options = WriteOptions.None;
        if (Mapping(request, out var mapping) is { } badMapping) return badMapping;
        if (IdempotencyKey(request, out var key) is { } badKey) return badKey;
        if (mapping is not null || key is not null) options = new WriteOptions(mapping, key);
        return null;
    }

    /// <summary>The <c>Idempotency-Key</c> header, if given.</summary>
    public static RequestFailure? IdempotencyKey(HttpRequest request, out string? key)
    {
        key = request.Headers[IdempotencyKeyHeader].FirstOrDefault();
        return key is null || WriteOptions.ValidKey(key)
            ? null
            : new RequestFailure(400, "invalid_idempotency_key", WriteOptions.KeyRule);
    }

    /// <summary>The request's message and time fields: <c>?_msg_field=</c> / <c>?_time_field=</c>, else the
    /// <c>MS-Msg-Field</c> / <c>MS-Time-Field</c> headers.</summary>
    public static RequestFailure? Mapping(HttpRequest request, out FieldMapping? mapping)
    {
        mapping = FieldMapping.Create(Param(request, "_msg_field", MessageFieldHeader),
            Param(request, "_time_field", TimeFieldHeader), out var error);
        return error is null ? null : new RequestFailure(400, "invalid_field", error);
    }

    private static string? Param(HttpRequest request, string query, string header) =>
        request.Query[query].FirstOrDefault() is { Length: > 0 } q ? q
        : request.Headers[header].FirstOrDefault() is { Length: > 0 } h ? h
        : null;

    /// <summary>Root writes into any org: its first write makes the org.</summary>
    public static bool CreatesOrg(HttpRequest request) => RequestAuth.Principal(request.HttpContext).IsRoot;
}
