using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using MoleSignal.Otlp.Logs;
using MoleSignal.Otlp.Traces;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP/JSON: the protobuf JSON mapping with OTLP's deviations. Field names in lowerCamelCase (or as in the
/// .proto), enums as integers, 64-bit integers as strings or numbers, unknown fields ignored. Trace and span ids
/// are hex, where the protobuf mapping reads base64: a hex id is valid base64 of three quarters its length, so
/// the parsed bytes are spelled back in base64 to get the hex text, which is then read as hex.
/// </summary>
public static class OtlpJson
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>The request; throws <see cref="InvalidProtocolBufferException"/> or
    /// <see cref="InvalidJsonException"/> when the body is not one, <see cref="FormatException"/> for an id that
    /// is not hex.</summary>
    public static IMessage Parse(ReadOnlySpan<byte> json, MessageDescriptor descriptor)
    {
        var message = Parser.Parse(Encoding.UTF8.GetString(json), descriptor);
        switch (message)
        {
            case ExportLogsServiceRequest logs:
                foreach (var r in logs.ResourceLogs)
                    foreach (var s in r.ScopeLogs)
                        foreach (var l in s.LogRecords)
                        {
                            l.TraceId = Hex(l.TraceId);
                            l.SpanId = Hex(l.SpanId);
                        }
                break;
            case ExportTraceServiceRequest traces:
                foreach (var r in traces.ResourceSpans)
                    foreach (var s in r.ScopeSpans)
                        foreach (var span in s.Spans)
                        {
                            span.TraceId = Hex(span.TraceId);
                            span.SpanId = Hex(span.SpanId);
                            span.ParentSpanId = Hex(span.ParentSpanId);
                            foreach (var link in span.Links)
                            {
                                link.TraceId = Hex(link.TraceId);
                                link.SpanId = Hex(link.SpanId);
                            }
                        }
                break;
        }
        return message;
    }

    private static ByteString Hex(ByteString readAsBase64) => readAsBase64.IsEmpty
        ? readAsBase64
        : ByteString.CopyFrom(Convert.FromHexString(readAsBase64.ToBase64()));

    /// <summary>A message in the OTLP/JSON spelling (answers to a JSON request are JSON).</summary>
    public static string Format(IMessage message) => JsonFormatter.Default.Format(message);
}
