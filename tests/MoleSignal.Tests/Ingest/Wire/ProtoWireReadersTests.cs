using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Loki;
using MoleSignal.Gateway.Ingest.RemoteWrite;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Logproto;
using MoleSignal.Prompb;

namespace MoleSignal.Tests.Ingest.Wire;

/// <summary>The span readers of Loki push and remote write, over messages Google.Protobuf wrote (with fields
/// they do not know, as newer senders add).</summary>
public sealed class ProtoWireReadersTests
{
    // The samples carry fixed dates: no timestamp window.
    internal static readonly IngestLimits Limits =
        new IngestLimits() with { AllowedPastHours = 0, AllowedFutureHours = 0 };

    private static List<JsonElement> Rows(Action<RecordBuilder> fill)
    {
        using var b = new RecordBuilder(Limits, 1_000_000);
        fill(b);
        Assert.Empty(b.Errors);
        return b.Build().SelectMany(BatchJson.Lines).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private static string? Str(JsonElement r, string key) =>
        r.TryGetProperty(key, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText() : null;

    // An unknown field (number 15, a string) appended to a message, as a newer sender may write.
    private static byte[] WithUnknown(byte[] message) => [.. message, 15 << 3 | 2, 2, (byte)'x', (byte)'y'];

    [Fact]
    public void Loki_entries_are_rows_with_line_labels_and_metadata_and_a_label_outranks_metadata()
    {
        var push = new PushRequest
        {
            Streams =
            {
                new StreamAdapter
                {
                    Labels = "{app=\"shop\", level=\"warn\", stream_name=\"s\"}",
                    Entries =
                    {
                        new EntryAdapter
                        {
                            Timestamp = new Timestamp { Seconds = 1_764_496_800, Nanos = 5_000 },
                            Line = "paid 42",
                            StructuredMetadata =
                            {
                                new LabelPairAdapter { Name = "trace.id", Value = "abc" },
                                new LabelPairAdapter { Name = "app", Value = "ignored" },
                            },
                        },
                        new EntryAdapter { Line = "no time" },
                    },
                },
            },
        };
        var body = WithUnknown(push.ToByteArray());
        var streams = new List<LokiStream>();
        Assert.Null(LokiWire.Read(body, streams));
        var stream = Assert.Single(streams);
        Assert.Equal(2, stream.Count);
        List<(byte[]?, byte[])> labels =
            [("app"u8.ToArray(), "shop"u8.ToArray()), ("level"u8.ToArray(), "warn"u8.ToArray())];
        var rows = Rows(b =>
        {
            var index = 0;
            LokiWire.Fill(b, body, stream, labels, ref index);
        });
        Assert.Equal(2, rows.Count);
        Assert.Equal("paid 42", Str(rows[0], "message"));
        Assert.Equal("shop", Str(rows[0], "app"));
        Assert.Equal("warn", Str(rows[0], "level"));
        Assert.Equal("abc", Str(rows[0], "trace_id"));
        Assert.Equal(1_764_496_800_000_005L, rows[0].GetProperty("_timestamp").GetInt64());
        Assert.Equal("no time", Str(rows[1], "message"));
        Assert.Equal(1_000_000L, rows[1].GetProperty("_timestamp").GetInt64()); // the arrival time
    }

    [Fact]
    public void Loki_invalid_utf8_or_a_cut_body_is_refused()
    {
        var push = new PushRequest
        {
            Streams = { new StreamAdapter { Labels = "{a=\"b\"}", Entries = { new EntryAdapter { Line = "ok" } } } },
        }.ToByteArray();
        var bad = (byte[])push.Clone();
        bad[Array.IndexOf(bad, (byte)'o')] = 0xff; // the line's first byte
        Assert.Contains("UTF-8", LokiWire.Read(bad, []));

        for (var cut = 1; cut < push.Length; cut++)
            Assert.NotNull(LokiWire.Read(push.AsSpan(0, cut), []));
    }

    [Fact]
    public void Remote_write_samples_are_rows_with_value_and_labels_and_stale_markers_are_skipped()
    {
        const ulong stale = 0x7ff0000000000002;
        var write = new WriteRequest
        {
            Timeseries =
            {
                new TimeSeries
                {
                    Labels =
                    {
                        new Label { Name = "__name__", Value = "http_requests_total" },
                        new Label { Name = "Job", Value = "api" },
                    },
                    Samples =
                    {
                        new Sample { Value = 3.5, Timestamp = 1_764_496_800_123 },
                        new Sample { Value = BitConverter.UInt64BitsToDouble(stale), Timestamp = 1_764_496_801_000 },
                        new Sample { Value = -1, Timestamp = 1_764_496_802_000 },
                    },
                },
                new TimeSeries { Labels = { new Label { Name = "job", Value = "unnamed" } } },
            },
        };
        var body = WithUnknown(write.ToByteArray());
        var series = new List<WireSeries>();
        Assert.Null(RemoteWriteWire.Read(body, series));
        Assert.Equal(["http_requests_total", ""], series.Select(s => s.MetricName));
        Assert.Equal([3, 0], series.Select(s => s.Samples));
        var rows = Rows(b => RemoteWriteWire.Fill(b, body, [series[0]], stale));
        Assert.Equal(2, rows.Count);
        Assert.Equal(["3.5", "-1"], rows.Select(r => Str(r, "value")));
        Assert.All(rows, r => Assert.Equal("http_requests_total", Str(r, "__name__")));
        Assert.All(rows, r => Assert.Equal("api", Str(r, "job")));
        Assert.Equal(1_764_496_800_123_000L, rows[0].GetProperty("_timestamp").GetInt64());
        var invalid = write.ToByteArray();
        invalid[Array.IndexOf(invalid, (byte)'a')] = 0xff; // in "api"
        Assert.Contains("UTF-8", RemoteWriteWire.Read(invalid, []));

        // One series: every cut falls inside it.
        var bytes = new WriteRequest { Timeseries = { write.Timeseries[0] } }.ToByteArray();
        for (var cut = 1; cut < bytes.Length; cut++)
            Assert.NotNull(RemoteWriteWire.Read(bytes.AsSpan(0, cut), []));
    }
}

/// <summary>The OTLP logs span reader makes the rows the message reader makes, on one rich export.</summary>
public sealed class OtlpLogsWireTests
{
    private static MoleSignal.Otlp.Common.KeyValue Kv(string key, MoleSignal.Otlp.Common.AnyValue value) =>
        new() { Key = key, Value = value };

    private static MoleSignal.Otlp.Common.AnyValue Str(string s) => new() { StringValue = s };

    private static MoleSignal.Otlp.Logs.ExportLogsServiceRequest Export()
    {
        var nested = new MoleSignal.Otlp.Common.KeyValueList
        {
            Values =
            {
                Kv("a", Str("x")),
                Kv("deep", new() { KvlistValue = new() { Values = { Kv("b", new() { IntValue = 2 }) } } }),
            },
        };
        var array = new MoleSignal.Otlp.Common.ArrayValue
        {
            Values =
            {
                Str("one"), new MoleSignal.Otlp.Common.AnyValue { DoubleValue = 2.5 },
                new MoleSignal.Otlp.Common.AnyValue { BoolValue = true },
                new MoleSignal.Otlp.Common.AnyValue { KvlistValue = nested },
            },
        };
        var record = new MoleSignal.Otlp.Logs.LogRecord
        {
            TimeUnixNano = 1_764_496_800_000_001_000UL, ObservedTimeUnixNano = 1_764_496_801_000_000_000UL,
            SeverityNumber = 13, SeverityText = "WARN",
            Body = Str("card declined"), EventName = "payment",
            TraceId = ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()),
            SpanId = ByteString.CopyFrom(Enumerable.Range(1, 8).Select(i => (byte)i).ToArray()),
            Attributes =
            {
                Kv("http.status", new() { IntValue = 402 }), Kv("ratio", new() { DoubleValue = 0.25 }),
                Kv("ok", new() { BoolValue = false }), Kv("raw", new() { BytesValue = ByteString.CopyFromUtf8("hi") }),
                Kv("list", new() { ArrayValue = array }), Kv("map", new() { KvlistValue = nested }),
                Kv("service.name", Str("record wins")), Kv("empty", new()),
            },
        };
        var mapBody = new MoleSignal.Otlp.Logs.LogRecord
        {
            ObservedTimeUnixNano = 1_764_496_802_000_000_000UL,
            Body = new() { KvlistValue = nested },
        };
        return new MoleSignal.Otlp.Logs.ExportLogsServiceRequest
        {
            ResourceLogs =
            {
                new MoleSignal.Otlp.Logs.ResourceLogs
                {
                    Resource = new() { Attributes = { Kv("service.name", Str("shop")), Kv("host", Str("h1")) } },
                    ScopeLogs =
                    {
                        new MoleSignal.Otlp.Logs.ScopeLogs
                        {
                            Scope = new() { Name = "lib", Version = "1.0" },
                            LogRecords = { record, mapBody },
                        },
                    },
                },
                new MoleSignal.Otlp.Logs.ResourceLogs
                {
                    ScopeLogs =
                    {
                        new MoleSignal.Otlp.Logs.ScopeLogs
                        { LogRecords = { new MoleSignal.Otlp.Logs.LogRecord { Body = Str("bare") } },
                        },
                    },
                },
            },
        };
    }

    private static List<string> Rows(Func<RecordBuilder, string?> fill)
    {
        using var b = new RecordBuilder(ProtoWireReadersTests.Limits, 1_000_000);
        Assert.Null(fill(b));
        Assert.Empty(b.Errors);
        return b.Build().SelectMany(BatchJson.Lines).ToList();
    }

    [Fact]
    public void The_span_reader_makes_the_same_rows_as_the_message_reader()
    {
        var export = Export();
        var body = export.ToByteArray();
        Assert.Null(MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Check(body, out var any));
        Assert.True(any);
        var fromMessages = Rows(b => MoleSignal.Gateway.Ingest.Otlp.OtlpLogs.Fill(b, export));
        var fromWire = Rows(b => MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Fill(b, body));
        Assert.Equal(fromMessages, fromWire);
        Assert.Contains("\"service_name\":\"record wins\"", fromWire[0]);
    }

    [Fact]
    public void A_cut_body_or_invalid_utf8_is_refused_as_the_protobuf_parser_refuses_it()
    {
        var body = new MoleSignal.Otlp.Logs.ExportLogsServiceRequest
        {
            ResourceLogs = { Export().ResourceLogs[0] },
        }.ToByteArray();
        for (var cut = 1; cut < body.Length; cut++)
            Assert.NotNull(MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Check(body.AsSpan(0, cut), out _));
        // A record is checked as it is read (the export is one stream's part: nothing is appended before).
        foreach (var text in new[] { "WARN"u8.ToArray(), "record wins"u8.ToArray(), "one"u8.ToArray(), "h1"u8.ToArray() })
        {
            var invalid = (byte[])body.Clone();
            invalid[invalid.AsSpan().IndexOf(text)] = 0xff;
            Assert.Throws<InvalidProtocolBufferException>(() =>
                MoleSignal.Otlp.Logs.ExportLogsServiceRequest.Parser.ParseFrom(invalid));
            var error = MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Check(invalid, out _);
            if (error is null)
            {
                using var b = new RecordBuilder(ProtoWireReadersTests.Limits, 1_000_000);
                error = MoleSignal.Gateway.Ingest.Otlp.OtlpLogsWire.Fill(b, invalid);
            }
            Assert.Contains("UTF-8", error);
        }
    }
}
