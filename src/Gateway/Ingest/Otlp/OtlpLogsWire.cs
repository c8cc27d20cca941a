namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// An OTLP/HTTP protobuf logs export read from the body's bytes with <see cref="ProtoWire"/>, into the rows
/// <see cref="OtlpLogs"/> makes from a parsed request (the same fields, in the same order), refusing what
/// Google.Protobuf's parser refuses: <see cref="Check"/> reads the structure, resources and scopes and counts the
/// records; <see cref="Fill"/> checks each record as it hands the builder its strings as the UTF-8 bytes they are.
/// </summary>
public static class OtlpLogsWire
{
    // ExportLogsServiceRequest.resource_logs; ResourceLogs.resource, .scope_logs, .schema_url; Resource.attributes;
    // ScopeLogs.scope, .log_records, .schema_url; InstrumentationScope.name, .version, .attributes.
    private const int ResourceLogs = 1, Resource = 1, ScopeLogs = 2, SchemaUrl = 3, ResourceAttributes = 1,
        Scope = 1, LogRecords = 2, ScopeName = 1, ScopeVersion = 2, ScopeAttributes = 3;

    // LogRecord fields.
    private const int TimeUnixNano = 1, SeverityNumber = 2, SeverityText = 3, Body = 5, Attributes = 6,
        TraceId = 9, SpanId = 10, ObservedTimeUnixNano = 11, EventName = 12;

    /// <returns>Null, or why the body is not an export request; <paramref name="any"/> whether it holds a log
    /// record.</returns>
    public static string? Check(ReadOnlySpan<byte> body, out bool any)
    {
        any = false;
        var records = 0;
        try
        {
            var request = new ProtoWire(body);
            while (request.Next(out var field, out var type))
            {
                if (field != ResourceLogs || type != ProtoWire.LengthDelimited)
                {
                    request.Skip(type);
                    continue;
                }
                var resource = request.ReadMessage();
                while (resource.Next(out field, out type))
                {
                    if (type != ProtoWire.LengthDelimited) resource.Skip(type);
                    else if (field == Resource)
                        OtlpWireValues.CheckAttributes(resource.ReadMessage(), ResourceAttributes);
                    else if (field == ScopeLogs) records += CheckScope(resource.ReadMessage());
                    else if (field == SchemaUrl) resource.ReadString();
                    else resource.Skip(type);
                }
            }
            any = records > 0;
            return null;
        }
        catch (ProtoWireException e)
        {
            return e.Message;
        }
    }

    private static int CheckScope(ProtoWire scope)
    {
        var records = 0;
        while (scope.Next(out var field, out var type))
        {
            if (type != ProtoWire.LengthDelimited) scope.Skip(type);
            else if (field == Scope)
            {
                var s = scope.ReadMessage();
                while (s.Next(out var f, out var t))
                {
                    if (t != ProtoWire.LengthDelimited) s.Skip(t);
                    else if (f is ScopeName or ScopeVersion) s.ReadString();
                    else if (f == ScopeAttributes) OtlpWireValues.CheckKeyValue(s.ReadMessage());
                    else s.Skip(t);
                }
            }
            else if (field == LogRecords)
            {
                scope.Skip(type); // checked as it is read into its row
                records++;
            }
            else if (field == SchemaUrl) scope.ReadString();
            else scope.Skip(type);
        }
        return records;
    }

    /// <summary>One row per log record of a body <see cref="Check"/> accepted, each record checked as it is
    /// read (UTF-8, nesting): an export is one stream's part, so a bad record refuses the body before anything
    /// of it is appended.</summary>
    /// <returns>Null, or why the body is not an export request.</returns>
    public static string? Fill(RecordBuilder b, ReadOnlySpan<byte> body)
    {
        try
        {
            FillRecords(b, body);
            return null;
        }
        catch (ProtoWireException e)
        {
            return $"the body is not an OTLP logs export request: {e.Message}";
        }
    }

    private static void FillRecords(RecordBuilder b, ReadOnlySpan<byte> body)
    {
        using var values = new OtlpWireValues();
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var index = 0;
        var request = new ProtoWire(body);
        while (request.Next(out var field, out var type))
        {
            if (field != ResourceLogs || type != ProtoWire.LengthDelimited)
            {
                request.Skip(type);
                continue;
            }
            var resourceLogs = request.ReadMessage();
            // The resource's attributes follow every record's own; the resource may come after its scopes.
            var resource = resourceLogs.LastMessage(Resource);
            while (resourceLogs.Next(out field, out type))
            {
                if (field != ScopeLogs || type != ProtoWire.LengthDelimited)
                {
                    resourceLogs.Skip(type);
                    continue;
                }
                var scopeLogs = resourceLogs.ReadMessage();
                var scope = scopeLogs.LastMessage(Scope);
                ReadOnlySpan<byte> scopeName = default, scopeVersion = default;
                while (scope.Next(out var f, out var t))
                {
                    if (t != ProtoWire.LengthDelimited) scope.Skip(t);
                    else if (f == ScopeName) scopeName = scope.ReadBytes();
                    else if (f == ScopeVersion) scopeVersion = scope.ReadBytes();
                    else scope.Skip(t);
                }
                while (scopeLogs.Next(out var f, out var t))
                {
                    if (f != LogRecords || t != ProtoWire.LengthDelimited)
                    {
                        scopeLogs.Skip(t);
                        continue;
                    }
                    var log = scopeLogs.ReadBytes(out var at);
                    AddRecord(b, values, key, new ProtoWire(log, at), scopeName, scopeVersion, resource);
                    b.EndRecord(index++, log.Length);
                }
            }
        }
    }

    private static void AddRecord(RecordBuilder b, OtlpWireValues values, Span<byte> key, ProtoWire log,
        ReadOnlySpan<byte> scopeName, ReadOnlySpan<byte> scopeVersion, ProtoWire resource)
    {
        b.BeginRecord();
        var start = log;
        ulong time = 0, observed = 0, severity = 0;
        ReadOnlySpan<byte> severityText = default, traceId = default, spanId = default, eventName = default;
        ProtoWire body = default;
        var hasBody = false;
        while (log.Next(out var field, out var type))
        {
            switch (field, type)
            {
                case (TimeUnixNano, ProtoWire.Fixed64): time = log.ReadFixed64(); break;
                case (ObservedTimeUnixNano, ProtoWire.Fixed64): observed = log.ReadFixed64(); break;
                case (SeverityNumber, ProtoWire.Varint): severity = log.ReadVarint(); break;
                case (SeverityText, ProtoWire.LengthDelimited): severityText = log.ReadString(); break;
                case (Body, ProtoWire.LengthDelimited):
                    body = log.ReadMessage();
                    hasBody = true;
                    break;
                case (TraceId, ProtoWire.LengthDelimited): traceId = log.ReadBytes(); break;
                case (SpanId, ProtoWire.LengthDelimited): spanId = log.ReadBytes(); break;
                case (EventName, ProtoWire.LengthDelimited): eventName = log.ReadString(); break;
                default: log.Skip(type); break;
            }
        }
        OtlpValues.SetTimestamp(b, time, 2);
        OtlpValues.SetTimestamp(b, observed, 1);
        if (hasBody)
        {
            "body"u8.CopyTo(key);
            values.AddValue(b, key, 4, body);
        }
        if (severityText.Length > 0) b.AddString("severity"u8, severityText);
        if (severity != 0) b.AddInt64("severity_number"u8, (int)severity);
        OtlpValues.AddId(b, "trace_id"u8, traceId);
        OtlpValues.AddId(b, "span_id"u8, spanId);
        if (eventName.Length > 0) b.AddString("event_name"u8, eventName);
        if (scopeName.Length > 0)
        {
            b.AddString("scope_name"u8, scopeName);
            if (scopeVersion.Length > 0) b.AddString("scope_version"u8, scopeVersion);
        }
        values.AddAttributes(b, key, 0, start, Attributes);
        values.AddAttributes(b, key, 0, resource, ResourceAttributes);
    }
}
