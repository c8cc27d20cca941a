using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using MoleSignal.Otlp.Common;
using MoleSignal.Otlp.Logs;
using MoleSignal.Tests.Processes;
using Xunit.Abstractions;

namespace MoleSignal.Tests.Ingest.Otlp;

/// <summary>
/// The same random logs exports sent as OTLP/HTTP protobuf and as OTLP/JSON become the same rows. The JSON is
/// Google.Protobuf's formatting with OTLP's hex ids, in every spelling a sender may use: camelCase or proto
/// names, 64-bit integers as strings or numbers, default values written or left out,
/// properties in any order. Seeded: MS_FUZZ_SEED replays a run.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class OtlpJsonParityTests(ITestOutputHelper output)
{
    private static readonly string[] Words = ["alpha", "βeta", "quote\"d", "back\\slash", "tab\there", "<tag>",
        "emoji 🦫", "line\nbreak", "", "a\u0001b"];

    [Fact]
    public async Task Random_exports_give_the_same_rows_as_protobuf_and_as_otlp_json()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("MS_FUZZ_SEED"), out var s)
            ? s
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (MS_FUZZ_SEED={seed} replays it)");
        var rng = new Random(seed);
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var seq = 0;
        for (var export = 0; export < 12; export++)
        {
            var request = Export(rng, ref seq);
            Assert.Equal(HttpStatusCode.OK, await PostAsync(node, "wire", request.ToByteArray(),
                "application/x-protobuf"));
            var json = Spell(rng, request);
            Assert.Equal(HttpStatusCode.OK, await PostAsync(node, "json", Encoding.UTF8.GetBytes(json),
                "application/json"));
        }
        // Column order follows the order fields first came in, which JSON leaves free: rows compare by name.
        var wire = await RowsAsync(node, "wire");
        var fromJson = await RowsAsync(node, "json");
        Assert.Equal(seq, wire.Count);
        Assert.Equal(seq, fromJson.Count);
        for (var i = 0; i < seq; i++)
        {
            if (wire[i] != fromJson[i]) output.WriteLine($"row {i}:\n protobuf {wire[i]}\n json     {fromJson[i]}");
            Assert.Equal(wire[i], fromJson[i]);
        }
    }

    // Each row as one JSON object of its non-null columns, sorted by name.
    private static async Task<List<string>> RowsAsync(MoleSignalNode node, string stream)
    {
        using var resp = await node.Http.PostAsJsonAsync("/api/v1/query",
            new { sql = $"SELECT * FROM {stream} ORDER BY seq" });
        var answer = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
        Assert.True(resp.IsSuccessStatusCode, answer.ToJsonString());
        var names = answer["columns"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
        var rows = new List<string>();
        foreach (var row in answer["rows"]!.AsArray())
        {
            var cells = row!.AsArray();
            var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (var c = 0; c < names.Count; c++)
                if (cells[c] is { } cell) sorted[names[c]] = cell.ToJsonString();
            rows.Add(string.Join(",", sorted.Select(p => $"{p.Key}={p.Value}")));
        }
        return rows;
    }

    private static async Task<HttpStatusCode> PostAsync(MoleSignalNode node, string stream, byte[] body,
        string type)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/otlp/v1/logs") { Content = content };
        req.Headers.Add("stream-name", stream);
        using var resp = await node.Http.SendAsync(req);
        return resp.StatusCode;
    }

    private static ExportLogsServiceRequest Export(Random rng, ref int seq)
    {
        var request = new ExportLogsServiceRequest();
        for (var r = rng.Next(1, 3); r > 0; r--)
        {
            var resource = new ResourceLogs { Resource = new Resource() };
            resource.Resource.Attributes.Add(Kv("service.name", new AnyValue { StringValue = Word(rng) }));
            if (rng.Next(2) == 0) resource.Resource.Attributes.Add(Kv("host.id", Value(rng, "k_i", 0)));
            for (var sc = rng.Next(1, 3); sc > 0; sc--)
            {
                var scope = new ScopeLogs();
                if (rng.Next(3) > 0)
                    scope.Scope = new InstrumentationScope
                    {
                        Name = Word(rng), Version = rng.Next(2) == 0 ? "1.2" : "",
                    };
                for (var n = rng.Next(1, 8); n > 0; n--) scope.LogRecords.Add(Record(rng, seq++));
                resource.ScopeLogs.Add(scope);
            }
            request.ResourceLogs.Add(resource);
        }
        return request;
    }

    private static readonly string[] Keys = ["k_s", "k_i", "k_d", "k_b", "k_bytes", "k_kv", "k_arr"];

    private static readonly string[] Shadowed = ["trace_id", "severity", "body", "event_name", "scope_name"];

    // A body is text, kept as JSON text, or flattened: "body" stays one type.
    private static readonly string[] BodyKinds = ["k_s", "k_kv", "k_arr"];

    private static LogRecord Record(Random rng, int seq)
    {
        var log = new LogRecord
        {
            TimeUnixNano = rng.Next(3) > 0 ? 1_764_583_200_000_000_000UL + (ulong)rng.NextInt64(1L << 40) : 0,
            ObservedTimeUnixNano = 1_764_583_100_000_000_000UL + (ulong)seq * 1000,
            SeverityNumber = rng.Next(0, 25),
            SeverityText = rng.Next(2) == 0 ? "WARN" : "",
            EventName = rng.Next(4) == 0 ? Word(rng) : "",
        };
        if (rng.Next(4) > 0)
            log.Body = rng.Next(4) > 0
                ? new AnyValue { StringValue = Word(rng) }
                : Value(rng, BodyKinds[rng.Next(3)], 0);
        if (rng.Next(3) > 0) log.TraceId = ByteString.CopyFrom(Bytes(rng, 16));
        if (rng.Next(3) > 0) log.SpanId = ByteString.CopyFrom(Bytes(rng, 8));
        log.Attributes.Add(Kv("seq", new AnyValue { IntValue = seq }));
        foreach (var key in Keys)
            if (rng.Next(2) == 0) log.Attributes.Add(Kv(key, Value(rng, key, 0)));
        // An attribute named like one of the record's own fields loses to it, wherever the JSON puts it.
        if (rng.Next(3) == 0)
            log.Attributes.Add(Kv(Shadowed[rng.Next(Shadowed.Length)], new AnyValue { StringValue = Word(rng) }));
        return log;
    }

    // A value of the kind the key stands for (the same kind every time, so no column changes type).
    private static AnyValue Value(Random rng, string key, int depth) => key switch
    {
        "k_s" => new AnyValue { StringValue = Word(rng) },
        "k_i" => new AnyValue { IntValue = rng.NextInt64(long.MinValue, long.MaxValue) },
        "k_d" => new AnyValue { DoubleValue = Math.Round(rng.NextDouble() * 1e6, rng.Next(0, 6)) },
        "k_b" => new AnyValue { BoolValue = rng.Next(2) == 0 },
        "k_bytes" => new AnyValue { BytesValue = ByteString.CopyFrom(Bytes(rng, rng.Next(0, 9))) },
        "k_kv" => Kvlist(rng, depth),
        _ => ArrayOf(rng, depth),
    };

    private static AnyValue Kvlist(Random rng, int depth)
    {
        var list = new KeyValueList();
        list.Values.Add(Kv("s", new AnyValue { StringValue = Word(rng) }));
        if (depth < 3) list.Values.Add(Kv("nested", Kvlist(rng, depth + 1)));
        list.Values.Add(Kv("arr", ArrayOf(rng, depth + 1)));
        return new AnyValue { KvlistValue = list };
    }

    private static AnyValue ArrayOf(Random rng, int depth)
    {
        var array = new ArrayValue();
        array.Values.Add(new AnyValue { DoubleValue = rng.Next(3) switch { 0 => double.NaN, 1 => 2.5, _ => -1e300 } });
        array.Values.Add(new AnyValue { StringValue = Word(rng) });
        array.Values.Add(new AnyValue { BytesValue = ByteString.CopyFrom(Bytes(rng, 3)) });
        array.Values.Add(new AnyValue());
        if (depth < 2) array.Values.Add(Kvlist(rng, depth + 1));
        return new AnyValue { ArrayValue = array };
    }

    private static KeyValue Kv(string key, AnyValue value) => new() { Key = key, Value = value };

    private static string Word(Random rng) => Words[rng.Next(Words.Length)];

    private static byte[] Bytes(Random rng, int n)
    {
        var bytes = new byte[n];
        rng.NextBytes(bytes);
        return bytes;
    }

    // The request as a sender might spell it in OTLP/JSON.
    private static string Spell(Random rng, ExportLogsServiceRequest request)
    {
        var settings = JsonFormatter.Settings.Default
            .WithPreserveProtoFieldNames(rng.Next(2) == 0)
            .WithFormatDefaultValues(rng.Next(2) == 0);
        var node = JsonNode.Parse(new JsonFormatter(settings).Format(request))!;
        return Respell(rng, node)!.ToJsonString();
    }

    // Ids from base64 to hex, 64-bit integers sometimes as numbers, every object's properties shuffled.
    private static JsonNode? Respell(Random rng, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var properties = o.ToList();
                o.Clear();
                var shuffled = properties.OrderBy(_ => rng.Next()).ToList();
                var result = new JsonObject();
                foreach (var (name, value) in shuffled)
                {
                    if (name is "traceId" or "trace_id" or "spanId" or "span_id" && value is JsonValue id)
                    {
                        var hex = Convert.ToHexString(Convert.FromBase64String(id.GetValue<string>()));
                        result[name] = rng.Next(2) == 0 ? hex : hex.ToLowerInvariant();
                    }
                    else if (name is "intValue" or "int_value" or "timeUnixNano" or "time_unix_nano"
                             && value is JsonValue n && rng.Next(2) == 0 && n.TryGetValue<string>(out var text))
                        result[name] = JsonValue.Create(decimal.Parse(text));
                    else result[name] = Respell(rng, value);
                }
                return result;
            case JsonArray a:
                var items = a.ToList();
                a.Clear();
                var array = new JsonArray();
                foreach (var item in items) array.Add(Respell(rng, item));
                return array;
            default:
                return node;
        }
    }
}
