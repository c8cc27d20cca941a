using Grpc.Core;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Gateway.Query;

/// <summary>The one map from a query's refusal to a gRPC status, beside the HTTP one of the same codes.</summary>
public static class QueryGrpc
{
    public static StatusCode Code(int httpStatus) => httpStatus switch
    {
        400 or 413 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        408 => StatusCode.DeadlineExceeded,
        429 => StatusCode.ResourceExhausted,
        503 => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    public static RpcException Exception(QueryException e) =>
        new(new Status(Code(e.Status), $"{e.Code}: {e.Message}"));
}
