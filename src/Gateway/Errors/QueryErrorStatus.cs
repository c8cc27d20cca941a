using Grpc.Core;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Gateway.Errors;

/// <summary>The one map from a query's kind of failure to its HTTP status and its gRPC status.</summary>
public static class QueryErrorStatus
{
    public static int Http(QueryErrorKind kind) => kind switch
    {
        QueryErrorKind.Invalid or QueryErrorKind.Forbidden => 400,
        QueryErrorKind.Unlicensed => 403,
        QueryErrorKind.Timeout => 408,
        QueryErrorKind.TooLarge => 413,
        QueryErrorKind.Busy => 429,
        QueryErrorKind.Cancelled => 499,
        _ => 500,
    };

    public static StatusCode Grpc(QueryErrorKind kind) => kind switch
    {
        QueryErrorKind.Invalid or QueryErrorKind.Forbidden or QueryErrorKind.TooLarge => StatusCode.InvalidArgument,
        QueryErrorKind.Unlicensed => StatusCode.PermissionDenied,
        QueryErrorKind.Timeout => StatusCode.DeadlineExceeded,
        QueryErrorKind.Busy => StatusCode.ResourceExhausted,
        QueryErrorKind.Cancelled => StatusCode.Cancelled,
        _ => StatusCode.Internal,
    };

    public static RpcException RpcException(QueryException e) =>
        new(new Status(Grpc(e.Kind), $"{e.Code}: {e.Message}"));
}
