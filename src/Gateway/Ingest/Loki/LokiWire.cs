using System.Text;

namespace MoleSignal.Gateway.Ingest.Loki;

/// <summary>
/// The protobuf push (<c>logproto.PushRequest</c>) read from the body's bytes with <see cref="ProtoWire"/>.
/// <see cref="Read"/> checks the whole request (its structure and label selectors) before anything is written
/// (invalid UTF-8 included, as protobuf's parsers refuse it) and notes where each entry lies; <see cref="Fill"/>
/// reads the entries again from there and hands the builder each line and structured-metadata pair as its UTF-8
/// bytes.
/// </summary>
public static class LokiWire
{
    // PushRequest.streams; StreamAdapter.labels, .entries; EntryAdapter.timestamp, .line, .structuredMetadata
    // (LabelPairAdapter is a pair: name 1, value 2.)
    private const int Streams = 1, Labels = 1, Entries = 2, Time = 1, Line = 2, Metadata = 3;

    /// <returns>Null, or why the body is not a push request (then nothing of it is written).</returns>
    public static string? Read(ReadOnlySpan<byte> body, List<LokiStream> streams)
    {
        try
        {
            var request = new ProtoWire(body);
            while (request.Next(out var field, out var type))
            {
                if (field != Streams || type != ProtoWire.LengthDelimited)
                {
                    request.Skip(type);
                    continue;
                }
                var stream = request.ReadMessage();
                var labels = new List<KeyValuePair<string, string>>();
                var entries = new List<(int, int)>();
                var selector = "";
                while (stream.Next(out field, out type))
                {
                    if (type != ProtoWire.LengthDelimited) stream.Skip(type);
                    else if (field == Labels) selector = Encoding.UTF8.GetString(stream.ReadString());
                    else if (field == Entries)
                    {
                        var entry = stream.ReadBytes(out var offset);
                        Check(new ProtoWire(entry, offset));
                        entries.Add((offset, entry.Length));
                    }
                    else stream.Skip(type);
                }
                if (LokiLabels.Parse(selector, labels) is { } bad) return bad;
                streams.Add(new LokiStream(labels, [], entries));
            }
            return null;
        }
        catch (ProtoWireException e)
        {
            return $"the body is not a Loki push request: {e.Message}";
        }
    }

    // An entry's structure, down to its timestamp's and metadata pairs' fields, and its strings' UTF-8.
    private static void Check(ProtoWire entry)
    {
        while (entry.Next(out var field, out var type))
        {
            if (type != ProtoWire.LengthDelimited)
            {
                entry.Skip(type);
                continue;
            }
            switch (field)
            {
                case Time:
                    var time = entry.ReadMessage();
                    while (time.Next(out _, out var t)) time.Skip(t);
                    break;
                case Line:
                    entry.ReadString();
                    break;
                case Metadata:
                    entry.ReadMessage().ReadPair(out _, out _, check: true);
                    break;
                default:
                    entry.Skip(type);
                    break;
            }
        }
    }

    /// <summary>One record per entry of <paramref name="stream"/>: its line as <c>message</c>, the stream's
    /// labels (<paramref name="labelKeys"/>, already keys; null for a name too long) then its structured metadata
    /// as fields.</summary>
    public static void Fill(RecordBuilder b, ReadOnlySpan<byte> body, LokiStream stream,
        List<(byte[]? Key, byte[] Value)> labelKeys, ref int index)
    {
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        foreach (var (start, length) in stream.Wire!)
        {
            b.BeginRecord();
            var size = 0;
            // Message and time first, then labels, then metadata: a label outranks a metadata pair of its name.
            var entry = new ProtoWire(body.Slice(start, length), start);
            while (entry.Next(out var field, out var type))
            {
                if (type != ProtoWire.LengthDelimited) entry.Skip(type);
                else if (field == Time)
                {
                    var micros = Micros(entry.ReadMessage());
                    if (micros > 0) b.SetTimestamp(micros);
                }
                else if (field == Line)
                {
                    var line = entry.ReadBytes();
                    b.AddString(RecordKeys.Message, line);
                    size += line.Length;
                }
                else entry.Skip(type);
            }
            size += AddLabels(b, labelKeys);
            entry = new ProtoWire(body.Slice(start, length), start);
            while (entry.Next(out var field, out var type))
            {
                if (field != Metadata || type != ProtoWire.LengthDelimited)
                {
                    entry.Skip(type);
                    continue;
                }
                entry.ReadMessage().ReadPair(out var name, out var value);
                var len = RecordKeys.Append(key, 0, name);
                if (len < 0) b.Fail(RecordKeys.TooLong);
                else b.AddString(key[..len], value);
                size += name.Length + value.Length;
            }
            b.EndRecord(index++, size);
        }
    }

    /// <summary>The stream's labels as fields (a name too long for a key fails the record); their size.</summary>
    public static int AddLabels(RecordBuilder b, List<(byte[]? Key, byte[] Value)> labels)
    {
        var size = 0;
        foreach (var (k, v) in labels)
        {
            if (k is null) b.Fail(RecordKeys.TooLong);
            else b.AddString(k, v);
            size += (k?.Length ?? RecordKeys.MaxBytes) + v.Length;
        }
        return size;
    }

    private static long Micros(ProtoWire timestamp)
    {
        long seconds = 0, nanos = 0;
        while (timestamp.Next(out var field, out var type))
        {
            if (type != ProtoWire.Varint) timestamp.Skip(type);
            else if (field == 1) seconds = (long)timestamp.ReadVarint();
            else if (field == 2) nanos = (int)timestamp.ReadVarint();
            else timestamp.Skip(type);
        }
        return seconds * 1_000_000 + nanos / 1000;
    }
}
