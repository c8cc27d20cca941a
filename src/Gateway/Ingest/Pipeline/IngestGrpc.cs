using Grpc.Core;

namespace MoleSignal.Gateway.Ingest;

/// <summary>The one map from an <see cref="IngestOutcome"/> that is not a success to a gRPC status (OTLP clients
/// retry UNAVAILABLE and RESOURCE_EXHAUSTED, never INVALID_ARGUMENT).</summary>
public static class IngestGrpc
{
    public static StatusCode Code(IngestStatus status) => status switch
    {
        IngestStatus.Ok => StatusCode.OK,
        IngestStatus.Unreadable or IngestStatus.AllRejected => StatusCode.InvalidArgument,
        IngestStatus.QuotaExceeded => StatusCode.ResourceExhausted,
        IngestStatus.Backpressure => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    public static RpcException Exception(IngestOutcome o) =>
        new(new Status(Code(o.Status), o.Message ?? (o.Status == IngestStatus.QuotaExceeded ? "quota exceeded" : "")));
}
