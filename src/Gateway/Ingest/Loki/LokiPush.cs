using System.Globalization;
using System.Text.Json;
using Google.Protobuf;

namespace MoleSignal.Gateway.Ingest.Loki;

/// <summary>One entry of a push: its time (µs since the epoch, 0 when none), line and structured metadata.</summary>
public readonly record struct LokiEntry(long Micros, string Line, List<KeyValuePair<string, string>>? Metadata);

/// <summary>One push stream: its labels and entries.</summary>
public sealed record LokiStream(List<KeyValuePair<string, string>> Labels, List<LokiEntry> Entries);

/// <summary>
/// A Loki push request read from either of its forms — protobuf (<c>logproto.PushRequest</c>, snappy-compressed)
/// or JSON (<c>{"streams":[{"stream":{labels},"values":[["ns","line",{metadata}?],…]}]}</c>) — into streams.
/// </summary>
public static class LokiPush
{
    /// <returns>Null, or why the body is not a push request (then nothing of it is written).</returns>
    public static string? FromProtobuf(ReadOnlySpan<byte> body, List<LokiStream> streams)
    {
        MoleSignal.Logproto.PushRequest request;
        try
        {
            request = MoleSignal.Logproto.PushRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            return $"the body is not a Loki push request: {e.Message}";
        }
        foreach (var s in request.Streams)
        {
            var labels = new List<KeyValuePair<string, string>>();
            if (LokiLabels.Parse(s.Labels, labels) is { } bad) return bad;
            var entries = new List<LokiEntry>(s.Entries.Count);
            foreach (var e in s.Entries)
            {
                List<KeyValuePair<string, string>>? metadata = null;
                if (e.StructuredMetadata.Count > 0)
                {
                    metadata = new(e.StructuredMetadata.Count);
                    foreach (var m in e.StructuredMetadata) metadata.Add(new(m.Name, m.Value));
                }
                var micros = e.Timestamp is { } t ? t.Seconds * 1_000_000 + t.Nanos / 1000 : 0;
                entries.Add(new LokiEntry(micros, e.Line, metadata));
            }
            streams.Add(new LokiStream(labels, entries));
        }
        return null;
    }

    private static readonly JsonReaderOptions Options = new() { MaxDepth = 16 };

    /// <returns>Null, or why the body is not a push request (then nothing of it is written).</returns>
    public static string? FromJson(ReadOnlySpan<byte> body, List<LokiStream> streams)
    {
        try
        {
            var r = new Utf8JsonReader(body, Options);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return "the body must be a JSON object";
            while (Next(ref r) is { } property)
            {
                if (property != "streams")
                {
                    r.Skip();
                    continue;
                }
                Expect(ref r, JsonTokenType.StartArray, "streams must be an array");
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    if (r.TokenType != JsonTokenType.StartObject) return "each stream must be an object";
                    streams.Add(ReadStream(ref r));
                }
            }
            return null;
        }
        catch (JsonException e)
        {
            return $"the body is not a Loki push request: {e.Message}";
        }
        catch (FormatException e)
        {
            return $"the body is not a Loki push request: {e.Message}";
        }
    }

    private static LokiStream ReadStream(ref Utf8JsonReader r)
    {
        var labels = new List<KeyValuePair<string, string>>();
        var entries = new List<LokiEntry>();
        while (Next(ref r) is { } property)
        {
            switch (property)
            {
                case "stream":
                    Expect(ref r, JsonTokenType.StartObject, "stream must be an object of labels");
                    ReadPairs(ref r, labels);
                    if (labels.Count > LokiLabels.MaxLabels)
                        throw new FormatException($"more than {LokiLabels.MaxLabels} labels");
                    break;
                case "values":
                    Expect(ref r, JsonTokenType.StartArray, "values must be an array");
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) entries.Add(ReadEntry(ref r));
                    break;
                default:
                    r.Skip();
                    break;
            }
        }
        return new LokiStream(labels, entries);
    }

    // ["<unix ns>", "<line>", {structured metadata}?]
    private static LokiEntry ReadEntry(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw new FormatException("each value must be [ts, line]");
        Expect(ref r, JsonTokenType.String, "a value's timestamp must be a string of nanoseconds");
        var text = r.GetString()!;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var nanos))
            throw new FormatException($"a value's timestamp must be nanoseconds since the epoch: {text}");
        Expect(ref r, JsonTokenType.String, "a value's line must be a string");
        var line = r.GetString()!;
        List<KeyValuePair<string, string>>? metadata = null;
        r.Read();
        if (r.TokenType == JsonTokenType.StartObject)
        {
            metadata = [];
            ReadPairs(ref r, metadata);
            r.Read();
        }
        if (r.TokenType != JsonTokenType.EndArray) throw new FormatException("a value has at most three items");
        return new LokiEntry(nanos / 1000, line, metadata);
    }

    private static void ReadPairs(ref Utf8JsonReader r, List<KeyValuePair<string, string>> into)
    {
        while (Next(ref r) is { } name)
        {
            r.Read();
            if (r.TokenType != JsonTokenType.String) throw new FormatException($"label {name} must be a string");
            into.Add(new(name, r.GetString()!));
        }
    }

    // The next property name of the object being read, or null at its end.
    private static string? Next(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new FormatException("the body ends early");
        return r.TokenType == JsonTokenType.PropertyName ? r.GetString() : null;
    }

    private static void Expect(ref Utf8JsonReader r, JsonTokenType type, string error)
    {
        if (!r.Read() || r.TokenType != type) throw new FormatException(error);
    }
}
