using Grpc.Core;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Otlp.Logs;
using MoleSignal.Otlp.Metrics;
using MoleSignal.Otlp.Traces;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// The OTLP collector services on the gRPC port: the org from the <c>organization</c> metadata (or
/// <c>x-org-id</c>), the stream from <c>stream-name</c>, both <c>default</c> when absent. A failure is the gRPC
/// status of <see cref="IngestGrpc"/>; rejected records come back as a partial success.
/// </summary>
public static class OtlpGrpc
{
    public static async Task<T> ExportAsync<T>(OtlpSignal signal, Google.Protobuf.IMessage request,
        ServerCallContext context, IngestPipeline pipeline) where T : class, Google.Protobuf.IMessage
    {
        var (org, principal) = GrpcAuthInterceptor.Require(context, Permission.Ingest);
        var stream = NameRules.Normalize(context.RequestHeaders.GetValue("stream-name") ?? OtlpExport.DefaultStream)
                     ?? throw new RpcException(
                         new Grpc.Core.Status(StatusCode.InvalidArgument, IngestRequest.StreamRule));
        var headers = context.RequestHeaders;
        var mapping = FieldMapping.Create(headers.GetValue(IngestRequest.MessageFieldHeader.ToLowerInvariant()),
            headers.GetValue(IngestRequest.TimeFieldHeader.ToLowerInvariant()), out var error);
        if (error is not null) throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, error));
        var key = headers.GetValue(IngestRequest.IdempotencyKeyHeader.ToLowerInvariant());
        if (key is not null && !WriteOptions.ValidKey(key))
            throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, WriteOptions.KeyRule));
        var (outcome, answer) = await OtlpExport.RunAsync(signal, request, org, stream, principal.IsRoot,
            request.CalculateSize(), pipeline, new WriteOptions(mapping, key), context.CancellationToken);
        if (answer is not null) return (T)answer;
        throw IngestGrpc.Exception(outcome!);
    }
}

public sealed class OtlpLogsService(IngestPipeline pipeline) : LogsService.LogsServiceBase
{
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request,
        ServerCallContext context) =>
        OtlpGrpc.ExportAsync<ExportLogsServiceResponse>(OtlpSignal.Logs, request, context, pipeline);
}

public sealed class OtlpTraceService(IngestPipeline pipeline) : TraceService.TraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request,
        ServerCallContext context) =>
        OtlpGrpc.ExportAsync<ExportTraceServiceResponse>(OtlpSignal.Traces, request, context, pipeline);
}

public sealed class OtlpMetricsService(IngestPipeline pipeline) : MetricsService.MetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request,
        ServerCallContext context) =>
        OtlpGrpc.ExportAsync<ExportMetricsServiceResponse>(OtlpSignal.Metrics, request, context, pipeline);
}
