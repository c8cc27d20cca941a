using MoleSignal.Otlp.Logs;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP log records as rows: <c>body</c> (a text body as is; a key-value body flattened as <c>body_*</c>),
/// <c>severity</c> and <c>severity_number</c>, <c>trace_id</c> / <c>span_id</c> in hex, <c>event_name</c>,
/// <c>scope_name</c> / <c>scope_version</c>, the record's attributes, then the resource's (so a record attribute wins
/// over a resource attribute of the same name), all flattened with '_'. <c>_timestamp</c> is
/// <c>time_unix_nano</c>, else <c>observed_time_unix_nano</c>, else the arrival time.
/// </summary>
public static class OtlpLogs
{
    public static int Count(ExportLogsServiceRequest request)
    {
        var n = 0;
        foreach (var r in request.ResourceLogs)
        foreach (var s in r.ScopeLogs)
            n += s.LogRecords.Count;
        return n;
    }

    public static string? Fill(RecordBuilder b, ExportLogsServiceRequest request)
    {
        using var values = new OtlpValues();
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var index = 0;
        foreach (var resource in request.ResourceLogs)
        foreach (var scope in resource.ScopeLogs)
        foreach (var log in scope.LogRecords)
        {
            b.BeginRecord();
            OtlpValues.SetTimestamp(b, log.TimeUnixNano, 2);
            OtlpValues.SetTimestamp(b, log.ObservedTimeUnixNano, 1);
            if (log.Body is { } body)
            {
                "body"u8.CopyTo(key);
                values.AddValue(b, key, 4, body);
            }
            if (log.SeverityText.Length > 0) values.AddString(b, "severity"u8, log.SeverityText);
            if (log.SeverityNumber != 0) b.AddInt64("severity_number"u8, log.SeverityNumber);
            OtlpValues.AddId(b, "trace_id"u8, log.TraceId);
            OtlpValues.AddId(b, "span_id"u8, log.SpanId);
            if (log.EventName.Length > 0) values.AddString(b, "event_name"u8, log.EventName);
            if (scope.Scope is { Name.Length: > 0 } sc)
            {
                values.AddString(b, "scope_name"u8, sc.Name);
                if (sc.Version.Length > 0) values.AddString(b, "scope_version"u8, sc.Version);
            }
            values.AddAttributes(b, key, 0, log.Attributes);
            if (resource.Resource is { } res) values.AddAttributes(b, key, 0, res.Attributes);
            b.EndRecord(index++, log.CalculateSize());
        }
        return null;
    }
}
