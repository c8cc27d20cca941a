using System.Globalization;
using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Loki;

/// <summary>One entry of a push: its time (µs since the epoch, 0 when none), line and structured metadata.</summary>
public readonly record struct LokiEntry(long Micros, string Line, List<KeyValuePair<string, string>>? Metadata);

/// <summary>One push stream: its labels and entries, read (JSON) or, from protobuf, where each entry lies in the
/// body (<see cref="LokiWire"/>).</summary>
public sealed record LokiStream(List<KeyValuePair<string, string>> Labels, List<LokiEntry> Entries,
    List<(int Start, int Length)>? Wire = null)
{
    public int Count => Wire?.Count ?? Entries.Count;
}

/// <summary>
/// A Loki push request in its JSON form (<c>{"streams":[{"stream":{labels},"values":[["ns","line",{metadata}?],…]}]}</c>)
/// read into streams; the protobuf form is read by <see cref="LokiWire"/>.
/// </summary>
public static class LokiPush
{
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
