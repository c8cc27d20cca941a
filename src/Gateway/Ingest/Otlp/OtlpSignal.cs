using Google.Protobuf;
using Google.Protobuf.Reflection;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Otlp.Logs;
using MoleSignal.Otlp.Metrics;
using MoleSignal.Otlp.Traces;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>What differs between the three OTLP signals: the stream type, the request's parser and reader, and
/// the answer with its partial success.</summary>
public abstract class OtlpSignal
{
    public abstract string Name { get; }

    public abstract string StreamType { get; }

    /// <summary>Parses the body; throws <see cref="InvalidProtocolBufferException"/> when it is not the
    /// request.</summary>
    public IMessage Parse(ReadOnlySpan<byte> protobuf) => Descriptor.Parser.ParseFrom(protobuf);

    /// <summary>The request message's descriptor: its parser reads protobuf bodies, OTLP/JSON is read by it.
    /// </summary>
    public abstract MessageDescriptor Descriptor { get; }

    public abstract int Count(IMessage request);

    public abstract string? Fill(RecordBuilder b, IMessage request);

    /// <summary>The success answer; <paramref name="rejected"/> &gt; 0 makes it a partial success.</summary>
    public abstract IMessage Answer(long rejected, string message);

    public static readonly OtlpSignal Logs = new LogsSignal();
    public static readonly OtlpSignal Traces = new TracesSignal();
    public static readonly OtlpSignal Metrics = new MetricsSignal();

    private sealed class LogsSignal : OtlpSignal
    {
        public override string Name => "logs";
        public override string StreamType => StreamKey.Logs;
        public override MessageDescriptor Descriptor => ExportLogsServiceRequest.Descriptor;
        public override int Count(IMessage r) => OtlpLogs.Count((ExportLogsServiceRequest)r);
        public override string? Fill(RecordBuilder b, IMessage r) => OtlpLogs.Fill(b, (ExportLogsServiceRequest)r);

        public override IMessage Answer(long rejected, string message) => rejected == 0
            ? new ExportLogsServiceResponse()
            : new ExportLogsServiceResponse
            {
                PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = rejected, ErrorMessage = message },
            };
    }

    private sealed class TracesSignal : OtlpSignal
    {
        public override string Name => "traces";
        public override string StreamType => StreamKey.Traces;
        public override MessageDescriptor Descriptor => ExportTraceServiceRequest.Descriptor;
        public override int Count(IMessage r) => OtlpTraces.Count((ExportTraceServiceRequest)r);
        public override string? Fill(RecordBuilder b, IMessage r) =>
            OtlpTraces.Fill(b, (ExportTraceServiceRequest)r);

        public override IMessage Answer(long rejected, string message) => rejected == 0
            ? new ExportTraceServiceResponse()
            : new ExportTraceServiceResponse
            {
                PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = rejected, ErrorMessage = message },
            };
    }

    private sealed class MetricsSignal : OtlpSignal
    {
        public override string Name => "metrics";
        public override string StreamType => StreamKey.Metrics;
        public override MessageDescriptor Descriptor => ExportMetricsServiceRequest.Descriptor;
        public override int Count(IMessage r) => OtlpMetrics.Count((ExportMetricsServiceRequest)r);
        public override string? Fill(RecordBuilder b, IMessage r) =>
            OtlpMetrics.Fill(b, (ExportMetricsServiceRequest)r);

        public override IMessage Answer(long rejected, string message) => rejected == 0
            ? new ExportMetricsServiceResponse()
            : new ExportMetricsServiceResponse
            {
                PartialSuccess = new ExportMetricsPartialSuccess
                {
                    RejectedDataPoints = rejected, ErrorMessage = message,
                },
            };
    }
}

/// <summary>One OTLP export through the ingest pipeline, for either transport.</summary>
public static class OtlpExport
{
    public const string DefaultStream = IngestRequest.DefaultStream;

    public static Task<(IngestOutcome? Outcome, IMessage? Answer)> RunAsync(OtlpSignal signal,
        IMessage request, string org, string stream, bool createsOrg, long bytes, IngestPipeline pipeline,
        WriteOptions options, CancellationToken ct) => RunAsync(signal, signal.Count(request) > 0,
        b => signal.Fill(b, request), org, stream, createsOrg, bytes, pipeline, options, ct);

    /// <param name="anyRecords">Whether the export holds a record (none: OTLP's success, nothing written).</param>
    /// <param name="fill">Reads them into the builder.</param>
    public static async Task<(IngestOutcome? Outcome, IMessage? Answer)> RunAsync(OtlpSignal signal, bool anyRecords,
        IngestPipeline.Fill fill, string org, string stream, bool createsOrg, long bytes, IngestPipeline pipeline,
        WriteOptions options, CancellationToken ct)
    {
        // An export of nothing is a success in OTLP, not a request without records.
        if (!anyRecords) return (null, signal.Answer(0, ""));
        var outcome = await pipeline.IngestAsync(new IngestTarget(org, signal.StreamType, stream), bytes, createsOrg,
            fill, options: options, ct: ct);
        IngestHttp.CountWarnings(outcome);
        if (outcome.Status != IngestStatus.Ok) return (outcome, null);
        var first = outcome.Errors.Count > 0 ? $"record {outcome.Errors[0].Index}: {outcome.Errors[0].Error}" : "";
        return (outcome, signal.Answer(outcome.Rejected, first));
    }
}
