using Grpc.Core;
using MoleSignal.Gateway.Auth;
using MoleSignal.Grains.Abstractions.Auth;
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
    /// <summary>What a call's metadata says: its org and principal, the stream and the write options.</summary>
    public readonly record struct Call(string Org, bool IsRoot, string Stream, WriteOptions Options);

    public static Call Read(ServerCallContext context)
    {
        var (org, principal) = GrpcAuthInterceptor.Require(context, Permission.Ingest);
        var headers = context.RequestHeaders;
        var stream = NameRules.Normalize(headers.GetValue("stream-name") ?? OtlpExport.DefaultStream)
                     ?? throw Invalid(IngestRequest.StreamRule);
        var mapping = FieldMapping.Create(headers.GetValue(IngestRequest.MessageFieldHeader.ToLowerInvariant()),
            headers.GetValue(IngestRequest.TimeFieldHeader.ToLowerInvariant()), out var error);
        if (error is not null) throw Invalid(error);
        var key = headers.GetValue(IngestRequest.IdempotencyKeyHeader.ToLowerInvariant());
        if (key is not null && !WriteOptions.ValidKey(key)) throw Invalid(WriteOptions.KeyRule);
        return new Call(org, principal.IsRoot, stream, new WriteOptions(mapping, key));
    }

    public static RpcException Invalid(string message) =>
        new(new Grpc.Core.Status(StatusCode.InvalidArgument, message));

    /// <summary>The export's answer, or the failure's status thrown.</summary>
    public static T Answer<T>((IngestOutcome? Outcome, Google.Protobuf.IMessage? Answer) run) where T : class =>
        run.Answer is not null ? (T)run.Answer : throw IngestGrpc.Exception(run.Outcome!);

    public static async Task<T> ExportAsync<T>(OtlpSignal signal, Google.Protobuf.IMessage request,
        ServerCallContext context, IngestPipeline pipeline) where T : class, Google.Protobuf.IMessage
    {
        var call = Read(context);
        return Answer<T>(await OtlpExport.RunAsync(signal, request, call.Org, call.Stream, call.IsRoot,
            request.CalculateSize(), pipeline, call.Options, context.CancellationToken));
    }
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
