using System.Buffers;
using System.Text.Json;
using MoleSignal.Otlp.Traces;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP spans as rows of a traces stream, one per span: <c>trace_id</c>, <c>span_id</c>, <c>parent_span_id</c>
/// (hex), <c>name</c>, <c>kind</c> (internal, server, client, producer, consumer), <c>start_time</c> /
/// <c>end_time</c> / <c>duration</c> (µs), <c>status_code</c> (unset, ok, error) and <c>status_message</c>,
/// <c>events</c> and <c>links</c> as JSON arrays, then the span's attributes and the resource's, flattened with '_'.
/// <c>_timestamp</c> is the start time.
/// </summary>
public static class OtlpTraces
{
    private static readonly string[] Kinds = ["unspecified", "internal", "server", "client", "producer", "consumer"];
    private static readonly string[] Codes = ["unset", "ok", "error"];

    public static int Count(ExportTraceServiceRequest request)
    {
        var n = 0;
        foreach (var r in request.ResourceSpans)
        foreach (var s in r.ScopeSpans)
            n += s.Spans.Count;
        return n;
    }

    public static string? Fill(RecordBuilder b, ExportTraceServiceRequest request)
    {
        using var values = new OtlpValues();
        var json = new ArrayBufferWriter<byte>(1024);
        using var writer = new Utf8JsonWriter(json);
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var index = 0;
        foreach (var resource in request.ResourceSpans)
        foreach (var scope in resource.ScopeSpans)
        foreach (var span in scope.Spans)
        {
            b.BeginRecord();
            OtlpValues.SetTimestamp(b, span.StartTimeUnixNano, 1);
            OtlpValues.AddId(b, "trace_id"u8, span.TraceId);
            OtlpValues.AddId(b, "span_id"u8, span.SpanId);
            OtlpValues.AddId(b, "parent_span_id"u8, span.ParentSpanId);
            values.AddString(b, "name"u8, span.Name);
            values.AddString(b, "kind"u8, span.Kind is >= 0 and < 6 ? Kinds[span.Kind] : span.Kind.ToString());
            var start = (long)(span.StartTimeUnixNano / 1000);
            var end = (long)(span.EndTimeUnixNano / 1000);
            b.AddInt64("start_time"u8, start);
            b.AddInt64("end_time"u8, end);
            b.AddInt64("duration"u8, Math.Max(0, end - start));
            var code = span.Status?.Code ?? 0;
            values.AddString(b, "status_code"u8, code is >= 0 and < 3 ? Codes[code] : code.ToString());
            if (span.Status is { Message.Length: > 0 } st) values.AddString(b, "status_message"u8, st.Message);
            if (span.TraceState.Length > 0) values.AddString(b, "trace_state"u8, span.TraceState);
            if (span.Events.Count > 0) b.AddJson("events"u8, Events(writer, json, span));
            if (span.Links.Count > 0) b.AddJson("links"u8, Links(writer, json, span));
            if (scope.Scope is { Name.Length: > 0 } sc) values.AddString(b, "scope_name"u8, sc.Name);
            values.AddAttributes(b, key, 0, span.Attributes);
            if (resource.Resource is { } res) values.AddAttributes(b, key, 0, res.Attributes);
            b.EndRecord(index++, span.CalculateSize());
        }
        return null;
    }

    private static ReadOnlySpan<byte> Events(Utf8JsonWriter w, ArrayBufferWriter<byte> json, Span span)
    {
        json.ResetWrittenCount();
        w.Reset(json);
        w.WriteStartArray();
        foreach (var e in span.Events)
        {
            w.WriteStartObject();
            w.WriteNumber("_timestamp"u8, (long)(e.TimeUnixNano / 1000));
            w.WriteString("name"u8, e.Name);
            w.WritePropertyName("attributes"u8);
            OtlpValues.WriteObject(w, e.Attributes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.Flush();
        return json.WrittenSpan;
    }

    private static ReadOnlySpan<byte> Links(Utf8JsonWriter w, ArrayBufferWriter<byte> json, Span span)
    {
        json.ResetWrittenCount();
        w.Reset(json);
        w.WriteStartArray();
        foreach (var l in span.Links)
        {
            w.WriteStartObject();
            w.WriteString("trace_id"u8, Convert.ToHexStringLower(l.TraceId.Span));
            w.WriteString("span_id"u8, Convert.ToHexStringLower(l.SpanId.Span));
            w.WritePropertyName("attributes"u8);
            OtlpValues.WriteObject(w, l.Attributes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.Flush();
        return json.WrittenSpan;
    }
}
