using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using MoleSignal.Otlp.Logs;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// The OTLP logs collector service over gRPC, read from the wire like OTLP/HTTP protobuf logs: the request is
/// bound with a marshaller that keeps the message's bytes (<see cref="WireRequest"/>) for <see cref="OtlpLogsWire"/>,
/// not a parsed <c>ExportLogsServiceRequest</c> with an object and a UTF-16 string per field.
/// </summary>
/// <remarks>Grpc.AspNetCore binds a handler only to a virtual method declared by the type that carries
/// <see cref="BindServiceMethodAttribute"/>, as on generated service bases: so the class is not sealed and
/// <see cref="Export"/> is virtual.</remarks>
[BindServiceMethod(typeof(OtlpLogsGrpcService), nameof(BindService))]
public class OtlpLogsGrpcService(IngestPipeline pipeline)
{
    private static readonly Method<WireRequest, ExportLogsServiceResponse> ExportMethod = new(MethodType.Unary,
        LogsService.Descriptor.FullName, "Export", WireRequest.Marshaller,
        Marshallers.Create(r => r.ToByteArray(), ExportLogsServiceResponse.Parser.ParseFrom));

    /// <summary>Called by Grpc.AspNetCore's binder (with a null service) to learn the service's methods.</summary>
    public static void BindService(ServiceBinderBase binder, OtlpLogsGrpcService? service) =>
        binder.AddMethod(ExportMethod, service is null ? null : service.Export);

    public virtual async Task<ExportLogsServiceResponse> Export(WireRequest request, ServerCallContext context)
    {
        using (request)
        {
            var call = OtlpGrpc.Read(context);
            if (OtlpLogsWire.Check(request.Span, out var any) is { } malformed)
                throw OtlpGrpc.Invalid($"the message is not an OTLP logs export request: {malformed}");
            return OtlpGrpc.Answer<ExportLogsServiceResponse>(await OtlpExport.RunAsync(OtlpSignal.Logs, any,
                b => OtlpLogsWire.Fill(b, request.Span), call.Org, call.Stream, call.IsRoot, request.Length,
                pipeline, call.Options, context.CancellationToken));
        }
    }
}

/// <summary>A gRPC request message kept as its bytes, in a pooled buffer returned on dispose.</summary>
public sealed class WireRequest : IDisposable
{
    public static readonly Marshaller<WireRequest> Marshaller = new(
        (_, _) => throw new NotSupportedException("a wire request is only received"), Read);

    private byte[]? _buffer;

    private WireRequest(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => (_buffer ?? throw new ObjectDisposedException(nameof(WireRequest)))
        .AsSpan(0, Length);

    // The framework has checked the length against the receive limit before the payload reaches a marshaller.
    private static WireRequest Read(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, (int)payload.Length));
        payload.CopyTo(buffer);
        return new WireRequest(buffer, (int)payload.Length);
    }

    public void Dispose()
    {
        if (_buffer is { } buffer) ArrayPool<byte>.Shared.Return(buffer);
        _buffer = null;
    }
}
