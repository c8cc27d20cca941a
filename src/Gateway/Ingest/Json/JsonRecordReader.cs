using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest.Json;

/// <summary>
/// One JSON object into a <see cref="RecordBuilder"/> record: nested keys joined with '_' up to the flatten level,
/// deeper objects and arrays kept as JSON text, <c>_timestamp</c> / <c>@timestamp</c> / <c>timestamp</c> (in that
/// order of precedence) as the record's time. Drivers of JSON-bodied protocols (our ingest API, Elasticsearch
/// documents, Loki and OTLP JSON values) read their records through it.
/// </summary>
public static class JsonRecordReader
{
    /// <summary>The reader is on the record's first token; on return it is on the record's last token.</summary>
    /// <param name="input">The bytes the reader reads (raw text of nested values is taken from it).</param>
    public static void Add(RecordBuilder builder, ref Utf8JsonReader reader, ReadOnlySpan<byte> input, int index)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            SkipValue(ref reader, out _);
            builder.Reject(index, "record is not a JSON object");
            return;
        }
        builder.BeginRecord();
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        FlattenObject(builder, builder.Limits, ref reader, input, key, 0, 1, reader.CurrentDepth);
        builder.EndRecord(index, (int)reader.BytesConsumed - start);
    }

    private static void FlattenObject(RecordBuilder b, IngestLimits limits, ref Utf8JsonReader r,
        ReadOnlySpan<byte> input, scoped Span<byte> key, int prefixLen, int level, int baseDepth)
    {
        while (r.Read())
        {
            if (r.TokenType == JsonTokenType.EndObject) return;
            // Property name
            ReadOnlySpan<byte> raw = r.ValueSpan;
            if (r.ValueIsEscaped) raw = Utf8Text.UnescapeLenient(raw); // rare: keys with escapes
            var keyLen = RecordKeys.Append(key, prefixLen, raw);
            var timestamp = level == 1 ? TimestampPriority(ref r) : 0;
            r.Read();
            if (b.Failed || keyLen < 0)
            {
                if (keyLen < 0) b.Fail(RecordKeys.TooLong);
                SkipValue(ref r, out _);
                continue;
            }
            if (timestamp > 0)
            {
                TakeTimestamp(b, ref r, timestamp);
                continue;
            }
            var k = key[..keyLen];
            switch (r.TokenType)
            {
                case JsonTokenType.StartObject when level < limits.FlattenLevel:
                    if (r.CurrentDepth - baseDepth >= limits.MaxNestingDepth) goto default;
                    FlattenObject(b, limits, ref r, input, key, keyLen, level + 1, baseDepth);
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                {
                    var from = (int)r.TokenStartIndex;
                    SkipValue(ref r, out var depth);
                    if (depth - baseDepth > limits.MaxNestingDepth)
                        b.Fail($"nesting deeper than {limits.MaxNestingDepth} levels");
                    else
                        b.AddJson(k, input[from..(int)r.BytesConsumed]);
                    break;
                }
                case JsonTokenType.String:
                    AddString(b, k, ref r);
                    break;
                case JsonTokenType.Number:
                    b.AddNumberText(k, r.TryGetInt64(out _) ? FieldKind.Int64 : FieldKind.Float64, r.ValueSpan);
                    break;
                case JsonTokenType.True:
                    b.AddBool(k, true);
                    break;
                case JsonTokenType.False:
                    b.AddBool(k, false);
                    break;
                case JsonTokenType.Null:
                    break;
                default:
                    SkipValue(ref r, out _);
                    b.Fail($"nesting deeper than {limits.MaxNestingDepth} levels");
                    break;
            }
        }
    }

    private static int TimestampPriority(ref Utf8JsonReader r)
    {
        if (r.ValueIsEscaped) return 0;
        var k = r.ValueSpan;
        if (k.SequenceEqual("_timestamp"u8)) return 3;
        if (k.SequenceEqual("@timestamp"u8)) return 2;
        if (k.SequenceEqual("timestamp"u8)) return 1;
        return 0;
    }

    private static void TakeTimestamp(RecordBuilder b, ref Utf8JsonReader r, int priority)
    {
        long micros;
        bool ok;
        switch (r.TokenType)
        {
            case JsonTokenType.Number:
                ok = TimestampParser.TryFromNumber(r.ValueSpan, out micros);
                break;
            case JsonTokenType.String:
                ok = r.ValueIsEscaped
                    ? TimestampParser.TryFromUtf8(Utf8Text.UnescapeLenient(r.ValueSpan), out micros)
                    : TimestampParser.TryFromUtf8(r.ValueSpan, out micros);
                break;
            default:
                SkipValue(ref r, out _);
                ok = false;
                micros = 0;
                break;
        }
        if (!ok) b.Fail("timestamp is neither a number nor an RFC 3339 string");
        else b.SetTimestamp(micros, priority);
    }

    /// <summary>The string the reader is on as a text field, unescaped.</summary>
    public static void AddString(RecordBuilder b, scoped ReadOnlySpan<byte> key, ref Utf8JsonReader r)
    {
        if (!r.ValueIsEscaped) b.AddString(key, r.ValueSpan);
        else AddUnescaped(b, key, ref r);
    }

    private static void AddUnescaped(RecordBuilder b, scoped ReadOnlySpan<byte> key, ref Utf8JsonReader r)
    {
        if (b.IsMappedTime(key))
        {
            b.AddString(key, Utf8Text.UnescapeLenient(r.ValueSpan));
            return;
        }
        // Unescaping only shortens; CopyString validates the UTF-8 it writes.
        if (!b.BeginText(key, r.ValueSpan.Length, out var destination)) return;
        int written;
        try
        {
            written = r.CopyString(destination);
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape or invalid raw bytes: System.Text.Json refuses what we repair.
            b.CommitRepairedText(Utf8Text.UnescapeLenient(r.ValueSpan));
            return;
        }
        b.CommitText(written);
    }

    /// <summary>Skips the value the reader is on; <paramref name="maxDepth"/> is the deepest level inside it.</summary>
    public static void SkipValue(ref Utf8JsonReader r, out int maxDepth)
    {
        maxDepth = r.CurrentDepth;
        if (r.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        var depth = r.CurrentDepth;
        while (r.Read())
        {
            if (r.CurrentDepth > maxDepth) maxDepth = r.CurrentDepth;
            if (r.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && r.CurrentDepth == depth) return;
        }
    }
}
