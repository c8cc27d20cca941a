using System.Text;
using System.Text.Json;
using Google.Protobuf;
using MoleSignal.Logproto;
using MoleSignal.Otlp.Common;
using MoleSignal.Otlp.Logs;
using MoleSignal.Prompb;

namespace MoleSignal.Bench;

/// <summary>
/// The genlogs NDJSON bodies converted once (not timed) into each protocol's body, body for body, carrying the same
/// fields: <c>MoleSignal.Bench convert otlp|otlp-json|loki|remote-write|syslog IN_DIR OUT_DIR</c>.
/// OTLP (protobuf or OTLP/JSON): message as body, trace_id as the record's, every other field an attribute.
/// Loki: level and service as labels (with <c>stream_name</c>), message as the line, the rest structured metadata,
/// snappy. Remote write: one sample per record (<c>http.duration_ms</c>), the text fields as labels, snappy.
/// Syslog: RFC 5424 octet-counted frames, the fields as structured data.
/// </summary>
public static class ProtocolBodies
{
    public static int Run(string[] args)
    {
        var (protocol, input, output) = (args[1], args[2], args[3]);
        Directory.CreateDirectory(output);
        foreach (var file in Directory.GetFiles(input).Order())
        {
            var records = File.ReadLines(file).Where(l => l.Length > 0).Select(Flatten).ToList();
            byte[] body = protocol switch
            {
                "otlp" => Otlp(records),
                "otlp-json" => OtlpJson(records),
                "loki" => Snappier.Snappy.CompressToArray(Loki(records)),
                "remote-write" => Snappier.Snappy.CompressToArray(RemoteWrite(records)),
                "syslog" => Syslog(records),
                _ => throw new ArgumentException($"unknown protocol {protocol}"),
            };
            File.WriteAllBytes(Path.Combine(output, Path.GetFileName(file)), body);
        }
        return 0;
    }

    private sealed record Flat(long Micros, string Message, List<(string Key, JsonElement Value)> Fields);

    private static Flat Flatten(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var fields = new List<(string, JsonElement)>();
        long micros = 0;
        var message = "";
        void Walk(JsonElement e, string prefix)
        {
            foreach (var p in e.EnumerateObject())
            {
                var key = prefix.Length == 0 ? p.Name : prefix + "." + p.Name;
                if (p.Value.ValueKind == JsonValueKind.Object) Walk(p.Value, key);
                else if (key == "_timestamp") micros = p.Value.GetInt64();
                else if (key == "@timestamp") micros = p.Value.GetDateTimeOffset().ToUnixTimeMilliseconds() * 1000;
                else if (key == "message") message = p.Value.GetString()!;
                else fields.Add((key, p.Value.Clone()));
            }
        }
        Walk(doc.RootElement, "");
        return new Flat(micros, message, fields);
    }

    private static string Text(JsonElement v) => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();

    private static byte[] Otlp(List<Flat> records)
    {
        var scope = new ScopeLogs();
        foreach (var r in records)
        {
            var log = new LogRecord
            {
                TimeUnixNano = (ulong)r.Micros * 1000,
                Body = new AnyValue { StringValue = r.Message },
            };
            foreach (var (key, v) in r.Fields)
            {
                if (key == "trace_id")
                {
                    log.TraceId = ByteString.CopyFrom(Convert.FromHexString(v.GetString()!));
                    continue;
                }
                log.Attributes.Add(new KeyValue
                {
                    Key = key,
                    Value = v.ValueKind switch
                    {
                        JsonValueKind.Number when v.TryGetInt64(out var l) => new AnyValue { IntValue = l },
                        JsonValueKind.Number => new AnyValue { DoubleValue = v.GetDouble() },
                        JsonValueKind.True or JsonValueKind.False => new AnyValue { BoolValue = v.GetBoolean() },
                        _ => new AnyValue { StringValue = Text(v) },
                    },
                });
            }
            scope.LogRecords.Add(log);
        }
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(new ResourceLogs { ScopeLogs = { scope } });
        return request.ToByteArray();
    }

    // OTLP/JSON as the OTLP specification writes it: camelCase names, 64-bit integers as strings, ids in hex.
    private static byte[] OtlpJson(List<Flat> records)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("resourceLogs");
            w.WriteStartObject();
            w.WriteStartArray("scopeLogs");
            w.WriteStartObject();
            w.WriteStartArray("logRecords");
            foreach (var r in records)
            {
                w.WriteStartObject();
                w.WriteString("timeUnixNano", ((ulong)r.Micros * 1000).ToString());
                w.WriteStartObject("body");
                w.WriteString("stringValue", r.Message);
                w.WriteEndObject();
                w.WriteStartArray("attributes");
                string? traceId = null;
                foreach (var (key, v) in r.Fields)
                {
                    if (key == "trace_id")
                    {
                        traceId = v.GetString();
                        continue;
                    }
                    w.WriteStartObject();
                    w.WriteString("key", key);
                    w.WriteStartObject("value");
                    if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l))
                        w.WriteString("intValue", l.ToString());
                    else if (v.ValueKind == JsonValueKind.Number) w.WriteNumber("doubleValue", v.GetDouble());
                    else if (v.ValueKind is JsonValueKind.True or JsonValueKind.False)
                        w.WriteBoolean("boolValue", v.GetBoolean());
                    else w.WriteString("stringValue", Text(v));
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (traceId is not null) w.WriteString("traceId", traceId.ToLowerInvariant());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Loki(List<Flat> records)
    {
        var streams = new Dictionary<string, StreamAdapter>();
        foreach (var r in records)
        {
            string level = "", service = "";
            var entry = new EntryAdapter
            {
                Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(
                    DateTimeOffset.UnixEpoch.AddTicks(r.Micros * 10)),
                Line = r.Message,
            };
            foreach (var (key, v) in r.Fields)
            {
                if (key == "level") level = Text(v);
                else if (key == "service") service = Text(v);
                else entry.StructuredMetadata.Add(new LabelPairAdapter { Name = key, Value = Text(v) });
            }
            var labels = $"{{level=\"{level}\", service=\"{service}\", stream_name=\"bench\"}}";
            if (!streams.TryGetValue(labels, out var s)) streams[labels] = s = new StreamAdapter { Labels = labels };
            s.Entries.Add(entry);
        }
        var push = new PushRequest();
        push.Streams.AddRange(streams.Values);
        return push.ToByteArray();
    }

    private static byte[] RemoteWrite(List<Flat> records)
    {
        var write = new WriteRequest();
        foreach (var r in records)
        {
            var series = new TimeSeries();
            double value = 0;
            var labels = new List<(string, string)> { ("__name__", "bench"), ("message", r.Message) };
            foreach (var (key, v) in r.Fields)
            {
                if (key == "http.duration_ms") value = v.GetDouble();
                else labels.Add((key.Replace('.', '_'), Text(v)));
            }
            foreach (var (n, v) in labels.OrderBy(l => l.Item1, StringComparer.Ordinal))
                series.Labels.Add(new Label { Name = n, Value = v });
            series.Samples.Add(new Sample { Value = value, Timestamp = r.Micros / 1000 });
            write.Timeseries.Add(series);
        }
        return write.ToByteArray();
    }

    private static byte[] Syslog(List<Flat> records)
    {
        var output = new MemoryStream();
        var sb = new StringBuilder();
        foreach (var r in records)
        {
            sb.Clear();
            var host = r.Fields.Find(f => f.Key == "kubernetes.node_name").Value;
            var app = r.Fields.Find(f => f.Key == "service").Value;
            sb.Append("<134>1 ")
                .Append(DateTimeOffset.UnixEpoch.AddTicks(r.Micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"))
                .Append(' ').Append(host.ValueKind == JsonValueKind.String ? host.GetString() : "-")
                .Append(' ').Append(app.ValueKind == JsonValueKind.String ? app.GetString() : "-")
                .Append(" - - [f@1");
            foreach (var (key, v) in r.Fields)
                sb.Append(' ').Append(key.Replace('.', '_')).Append("=\"")
                    .Append(Text(v).Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("]", "\\]")).Append('"');
            sb.Append("] ").Append(r.Message);
            var frame = Encoding.UTF8.GetBytes(sb.ToString());
            output.Write(Encoding.ASCII.GetBytes($"{frame.Length} "));
            output.Write(frame);
        }
        return output.ToArray();
    }
}
