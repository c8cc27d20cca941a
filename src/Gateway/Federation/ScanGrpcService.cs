using MoleSignal.Gateway.Errors;
using Grpc.Core;
using Google.Protobuf;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Query;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Rpc.V1;

namespace MoleSignal.Gateway.Federation;

/// <summary>
/// <c>molesignal.v1.Scan/Scan</c>: one stream's rows for a federated query of another cluster, read under this
/// cluster's own auth (the caller needs read in the org it names) and sent as Arrow chunks while they are read;
/// each chunk waits for the caller to take the one before (HTTP/2 flow control), so memory stays flat.
/// </summary>
public sealed class ScanGrpcService(IStreamScanner scanner) : Scan.ScanBase
{
    public override async Task Scan(StreamScanRequest request, IServerStreamWriter<StreamScanChunk> responseStream,
        ServerCallContext context)
    {
        var (org, _) = GrpcAuthInterceptor.Require(context, Permission.Read);
        var scan = StreamScan.Of(org, request);
        try
        {
            // The message is serialized into the response during the write: the chunk's buffer is free after it.
            await foreach (var chunk in scanner.ScanAsync(scan, context.CancellationToken))
                using (chunk)
                    await responseStream.WriteAsync(new StreamScanChunk
                    {
                        ArrowIpc = UnsafeByteOperations.UnsafeWrap(chunk.ArrowIpc), Rows = chunk.Rows,
                    });
        }
        catch (QueryException e)
        {
            throw QueryErrorStatus.RpcException(e);
        }
    }
}
