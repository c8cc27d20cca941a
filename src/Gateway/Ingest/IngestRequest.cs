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

    /// <summary>Root writes into any org: its first write makes the org.</summary>
    public static bool CreatesOrg(HttpRequest request) => RequestAuth.Principal(request.HttpContext).IsRoot;
}
