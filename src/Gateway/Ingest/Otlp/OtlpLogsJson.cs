using System.Text;
using System.Text.Json;
using MoleSignal.Gateway.Ingest.Json;
using static MoleSignal.Gateway.Ingest.Otlp.OtlpJsonReading;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// An OTLP/JSON logs export read from the body's bytes with a <see cref="Utf8JsonReader"/>, into the rows
/// <see cref="OtlpLogsWire"/> makes from protobuf (the same fields and values): <see cref="Check"/> reads up to
/// the first record; <see cref="Fill"/> reads the whole body once, checking each record as it hands the builder
/// its strings as the UTF-8 bytes they are. Trace and span ids are hex (OTLP's deviation from the
/// protobuf mapping's base64), enums integers. A record's fields come in any order; its resource and scope may
/// follow its records (the first of each counts).
/// </summary>
public static class OtlpLogsJson
{
    /// <returns>Null, or why the body is not an export request; <paramref name="any"/> whether it holds a log
    /// record. Reads up to the first record: what follows is checked by <see cref="Fill"/>, which reads it once.
    /// </returns>
    public static string? Check(ReadOnlySpan<byte> body, out bool any)
    {
        any = false;
        try
        {
            using var values = new OtlpJsonValues();
            var r = Open(body);
            var inArray = false;
            while (NextResourceLogs(ref r, ref inArray))
                if (any = CheckResource(values, ref r)) return null;
            r.Read(); // refuses anything after the object
            return null;
        }
        catch (Exception e) when (e is JsonException or OtlpJsonException)
        {
            return e.Message;
        }
    }

    // True on the first log record.
    private static bool CheckResource(OtlpJsonValues values, ref Utf8JsonReader r)
    {
        while (Property(ref r))
        {
            if (Is(ref r, "resource"u8, "resource"u8))
            {
                r.Read();
                if (StartObject(ref r, "resource") && Find(ref r, "attributes"u8, "attributes"u8))
                {
                    values.CheckAttributes(ref r);
                    while (Property(ref r)) SkipValue(ref r);
                }
            }
            else if (Is(ref r, "scopeLogs"u8, "scope_logs"u8))
            {
                r.Read();
                if (!StartArray(ref r, "scopeLogs")) continue;
                while (Element(ref r, "a scopeLogs"))
                    if (CheckScope(values, ref r)) return true;
            }
            else if (Is(ref r, "schemaUrl"u8, "schema_url"u8))
            {
                r.Read();
                String(ref r, "schemaUrl");
            }
            else SkipValue(ref r);
        }
        return false;
    }

    private static bool CheckScope(OtlpJsonValues values, ref Utf8JsonReader r)
    {
        while (Property(ref r))
        {
            if (Is(ref r, "scope"u8, "scope"u8))
            {
                r.Read();
                if (!StartObject(ref r, "scope")) continue;
                while (Property(ref r))
                {
                    if (Is(ref r, "name"u8, "name"u8) || Is(ref r, "version"u8, "version"u8))
                    {
                        r.Read();
                        String(ref r, "a scope's name and version");
                    }
                    else if (Is(ref r, "attributes"u8, "attributes"u8))
                    {
                        r.Read();
                        values.CheckAttributes(ref r);
                    }
                    else SkipValue(ref r);
                }
            }
            else if (Is(ref r, "logRecords"u8, "log_records"u8))
            {
                r.Read();
                if (StartArray(ref r, "logRecords") && Element(ref r, "a log record")) return true;
            }
            else if (Is(ref r, "schemaUrl"u8, "schema_url"u8))
            {
                r.Read();
                String(ref r, "schemaUrl");
            }
            else SkipValue(ref r);
        }
        return false;
    }

    /// <summary>One row per log record of a body <see cref="Check"/> accepted, each record checked as it is
    /// read: an export is one stream's part, so a bad record refuses the body before anything of it is appended.
    /// </summary>
    /// <returns>Null, or why the body is not an export request.</returns>
    public static string? Fill(RecordBuilder b, ReadOnlySpan<byte> body)
    {
        try
        {
            if (!FillRecords(b, body, lookAhead: false))
            {
                b.Reset();
                FillRecords(b, body, lookAhead: true);
            }
            return null;
        }
        catch (Exception e) when (e is JsonException or OtlpJsonException)
        {
            return $"the body is not an OTLP logs export request: {e.Message}";
        }
    }

    // What a record takes from its scope and resource.
    private ref struct Context
    {
        public Utf8JsonReader ScopeName, ScopeVersion, ResourceAttributes;
        public bool HasScopeName, HasScopeVersion, HasResource;
        public ReadOnlySpan<byte> Body;
    }

    // Exporters write a resource before its scopes and a scope before its records, so one pass in order reads
    // them all. A resource or scope that follows records it applies to makes that pass give up (false); the
    // body is then read again with lookAhead, each resource and scope found by reading ahead of its records.
    private static bool FillRecords(RecordBuilder b, ReadOnlySpan<byte> body, bool lookAhead)
    {
        using var values = new OtlpJsonValues();
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var index = 0;
        var r = Open(body);
        var inArray = false;
        while (NextResourceLogs(ref r, ref inArray))
        {
            var context = new Context { Body = body };
            var known = lookAhead;
            var filled = false;
            if (lookAhead)
            {
                var ahead = r;
                if (Find(ref ahead, "resource"u8, "resource"u8)) ReadResource(ref ahead, ref context);
            }
            while (Property(ref r))
            {
                if (Is(ref r, "resource"u8, "resource"u8) && !known)
                {
                    if (filled) return false;
                    r.Read();
                    ReadResource(ref r, ref context);
                    known = true;
                }
                else if (Is(ref r, "scopeLogs"u8, "scope_logs"u8))
                {
                    r.Read();
                    if (!StartArray(ref r, "scopeLogs")) continue;
                    filled = true;
                    while (Element(ref r, "a scopeLogs"))
                        if (!FillScope(b, values, key, ref r, ref context, ref index, lookAhead)) return false;
                }
                else SkipValue(ref r);
            }
        }
        r.Read(); // refuses anything after the object
        return true;
    }

    // The resource's attributes (the first such property), the reader left on the resource's end.
    private static void ReadResource(ref Utf8JsonReader r, ref Context context)
    {
        if (!StartObject(ref r, "resource")) return;
        while (Property(ref r))
        {
            if (!context.HasResource && Is(ref r, "attributes"u8, "attributes"u8))
            {
                r.Read();
                context.ResourceAttributes = r;
                context.HasResource = true;
                r.Skip();
            }
            else SkipValue(ref r);
        }
    }

    private static Utf8JsonReader Open(ReadOnlySpan<byte> body)
    {
        var r = new Utf8JsonReader(body, Options);
        r.Read();
        Expect(ref r, JsonTokenType.StartObject, "the request must be a JSON object");
        return r;
    }

    // Steps through the request's resourceLogs arrays: true on each element's start, false on the request's end.
    private static bool NextResourceLogs(ref Utf8JsonReader r, ref bool inArray)
    {
        while (true)
        {
            if (inArray && Element(ref r, "a resourceLogs")) return true;
            inArray = false;
            if (!Property(ref r)) return false;
            if (!Is(ref r, "resourceLogs"u8, "resource_logs"u8))
            {
                SkipValue(ref r);
                continue;
            }
            r.Read();
            inArray = StartArray(ref r, "resourceLogs");
        }
    }

    private static bool FillScope(RecordBuilder b, OtlpJsonValues values, scoped Span<byte> key,
        ref Utf8JsonReader r, ref Context context, ref int index, bool lookAhead)
    {
        context.HasScopeName = context.HasScopeVersion = false;
        var known = lookAhead;
        var filled = false;
        if (lookAhead)
        {
            var ahead = r;
            if (Find(ref ahead, "scope"u8, "scope"u8)) ReadScope(ref ahead, ref context);
        }
        while (Property(ref r))
        {
            if (Is(ref r, "scope"u8, "scope"u8) && !known)
            {
                if (filled) return false;
                r.Read();
                ReadScope(ref r, ref context);
                known = true;
            }
            else if (Is(ref r, "logRecords"u8, "log_records"u8))
            {
                r.Read();
                if (!StartArray(ref r, "logRecords")) continue;
                filled = true;
                while (Element(ref r, "a log record"))
                {
                    var start = r.TokenStartIndex;
                    AddRecord(b, values, key, ref r, ref context);
                    b.EndRecord(index++, (int)(r.BytesConsumed - start));
                }
            }
            else SkipValue(ref r);
        }
        return true;
    }

    // The scope's name and version, the reader left on the scope's end.
    private static void ReadScope(ref Utf8JsonReader r, ref Context context)
    {
        if (!StartObject(ref r, "scope")) return;
        while (Property(ref r))
        {
            var name = Is(ref r, "name"u8, "name"u8);
            var version = !name && Is(ref r, "version"u8, "version"u8);
            r.Read();
            if (!(name || version) || !String(ref r, "a scope's name and version")) r.Skip();
            else if (name)
            {
                context.ScopeName = r;
                context.HasScopeName = r.ValueSpan.Length > 0;
            }
            else
            {
                context.ScopeVersion = r;
                context.HasScopeVersion = r.ValueSpan.Length > 0;
            }
        }
    }

    // The record's fields in one pass, each added as it comes (a builder keeps a key's first value): its scope's
    // first, attributes that share a name with the record's own fields after those (see Reserved), the resource's
    // last.
    private static void AddRecord(RecordBuilder b, OtlpJsonValues values, scoped Span<byte> key,
        ref Utf8JsonReader r, ref Context context)
    {
        b.BeginRecord();
        if (context.HasScopeName)
        {
            JsonRecordReader.AddString(b, "scope_name"u8, ref context.ScopeName);
            if (context.HasScopeVersion) JsonRecordReader.AddString(b, "scope_version"u8, ref context.ScopeVersion);
        }
        while (Property(ref r))
        {
            var field = Field(ref r);
            r.Read();
            if (field == 0 || r.TokenType == JsonTokenType.Null)
            {
                r.Skip();
                continue;
            }
            switch (field)
            {
                case TimeUnixNano: OtlpValues.SetTimestamp(b, UInt64(ref r, "timeUnixNano"), 2); break;
                case ObservedTimeUnixNano:
                    OtlpValues.SetTimestamp(b, UInt64(ref r, "observedTimeUnixNano"), 1);
                    break;
                case SeverityNumber:
                    var severity = Int64(ref r, "severityNumber");
                    if (severity != 0) b.AddInt64("severity_number"u8, severity);
                    break;
                case SeverityText: AddText(b, "severity"u8, ref r, "severityText"); break;
                case TraceId: AddHexId(b, "trace_id"u8, ref r, "traceId"); break;
                case SpanId: AddHexId(b, "span_id"u8, ref r, "spanId"); break;
                case EventName: AddText(b, "event_name"u8, ref r, "eventName"); break;
                case Body:
                    Expect(ref r, JsonTokenType.StartObject, "body must be an AnyValue object");
                    "body"u8.CopyTo(key);
                    values.AddValue(b, key, 4, ref r);
                    break;
                case Attributes:
                    Expect(ref r, JsonTokenType.StartArray, "attributes must be an array");
                    values.AddAttributes(b, key, 0, ref r, reserved: RecordField);
                    break;
            }
        }
        values.AddLater(b, key, context.Body);
        if (context.HasResource)
        {
            var resource = context.ResourceAttributes;
            values.AddAttributes(b, key, 0, ref resource);
        }
    }

    // The keys a record's own fields take ("body" also as the prefix of a flattened body).
    private static readonly OtlpJsonValues.Reserved RecordField = static key => key.Length > 0 && key[0] switch
    {
        (byte)'b' => key.StartsWith("body"u8),
        (byte)'s' => key.SequenceEqual("severity"u8) || key.SequenceEqual("severity_number"u8)
            || key.SequenceEqual("span_id"u8),
        (byte)'t' => key.SequenceEqual("trace_id"u8),
        (byte)'e' => key.SequenceEqual("event_name"u8),
        _ => false,
    };

    private const int TimeUnixNano = 1, SeverityNumber = 2, SeverityText = 3, Body = 5, Attributes = 6,
        TraceId = 9, SpanId = 10, ObservedTimeUnixNano = 11, EventName = 12;

    private static int Field(ref Utf8JsonReader r)
    {
        if (Is(ref r, "attributes"u8, "attributes"u8)) return Attributes;
        if (Is(ref r, "body"u8, "body"u8)) return Body;
        if (Is(ref r, "timeUnixNano"u8, "time_unix_nano"u8)) return TimeUnixNano;
        if (Is(ref r, "observedTimeUnixNano"u8, "observed_time_unix_nano"u8)) return ObservedTimeUnixNano;
        if (Is(ref r, "severityNumber"u8, "severity_number"u8)) return SeverityNumber;
        if (Is(ref r, "severityText"u8, "severity_text"u8)) return SeverityText;
        if (Is(ref r, "traceId"u8, "trace_id"u8)) return TraceId;
        if (Is(ref r, "spanId"u8, "span_id"u8)) return SpanId;
        if (Is(ref r, "eventName"u8, "event_name"u8)) return EventName;
        return 0;
    }

    // A string field; an empty one adds nothing.
    private static void AddText(RecordBuilder b, ReadOnlySpan<byte> key, ref Utf8JsonReader r, string what)
    {
        Expect(ref r, JsonTokenType.String, what, "must be a string");
        if (r.ValueSpan.Length > 0) JsonRecordReader.AddString(b, key, ref r);
    }

    // A trace or span id in hex, as lowercase hex.
    private static void AddHexId(RecordBuilder b, ReadOnlySpan<byte> key, ref Utf8JsonReader r, string what)
    {
        Expect(ref r, JsonTokenType.String, what, "must be a string");
        var text = r.ValueIsEscaped ? (ReadOnlySpan<byte>)Encoding.UTF8.GetBytes(r.GetString()!) : r.ValueSpan;
        if (text.IsEmpty) return;
        if ((text.Length & 1) != 0) throw new OtlpJsonException("trace and span ids must be hex");
        var hex = text.Length <= 128 ? stackalloc byte[text.Length] : new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is >= (byte)'A' and <= (byte)'F') c = (byte)(c + 32);
            else if (c is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f')))
                throw new OtlpJsonException("trace and span ids must be hex");
            hex[i] = c;
        }
        b.AddString(key, hex);
    }
}
