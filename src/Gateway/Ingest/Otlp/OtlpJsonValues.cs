using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using MoleSignal.Gateway.Ingest.Json;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP/JSON's <c>KeyValue</c> and <c>AnyValue</c> read with a <see cref="Utf8JsonReader"/> into record fields,
/// the way <see cref="OtlpWireValues"/> reads them from protobuf: attributes become fields (nested key-value lists
/// flattened with '_' up to the flatten level, arrays and deeper lists kept as JSON), bytes in standard base64.
/// Property order is free in JSON, so a key may follow its value; an AnyValue with two cases set is refused.
/// Names are the lowerCamelCase of the OTLP specification or the .proto's own; 64-bit integers are numbers or
/// strings; a double may be <c>"NaN"</c> or <c>"±Infinity"</c>. A value of the wrong JSON type throws
/// <see cref="OtlpJsonException"/>.
/// </summary>
public sealed class OtlpJsonValues : IDisposable
{
    private const int StringValue = 1, BoolValue = 2, IntValue = 3, DoubleValue = 4, ArrayValue = 5,
        KvlistValue = 6, BytesValue = 7;

    /// <summary>Deeper values are written as null, as from protobuf.</summary>
    private const int MaxJsonDepth = 32;

    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly Utf8JsonWriter _writer;

    public OtlpJsonValues() => _writer = new Utf8JsonWriter(_json, new JsonWriterOptions { SkipValidation = true });

    /// <summary>Whether a top-level attribute key is one the record's own fields use: such an attribute is read
    /// after them (their JSON may come later), so that the record's own field wins, as from protobuf.</summary>
    public delegate bool Reserved(ReadOnlySpan<byte> key);

    // Where the key-values left for later are in the body (start, length): each is a JSON object of its own.
    private readonly List<(int Start, int Length)> _later = [];

    /// <summary>Every <c>KeyValue</c> of the array the reader is on (or null) as a field under
    /// <paramref name="prefixLen"/> bytes of key, read in one pass; one whose key is
    /// <paramref name="reserved"/> is kept for <see cref="AddLater"/>. The reader is left on the array's end.
    /// </summary>
    public void AddAttributes(RecordBuilder b, scoped Span<byte> key, int prefixLen, ref Utf8JsonReader r,
        int level = 1, Reserved? reserved = null)
    {
        if (!OtlpJsonReading.StartArray(ref r, "key-values")) return;
        while (OtlpJsonReading.Element(ref r, "a key-value"))
        {
            if (b.Failed)
            {
                r.Skip();
                continue;
            }
            var start = (int)r.TokenStartIndex;
            if (AddKeyValue(b, key, prefixLen, ref r, level, reserved))
                _later.Add((start, (int)r.BytesConsumed - start));
        }
    }

    /// <summary>The key-values <see cref="AddAttributes"/> kept, from the body it read.</summary>
    public void AddLater(RecordBuilder b, scoped Span<byte> key, ReadOnlySpan<byte> body)
    {
        foreach (var (start, length) in _later)
        {
            var kv = new Utf8JsonReader(body.Slice(start, length), OtlpJsonReading.Options);
            kv.Read();
            AddKeyValue(b, key, 0, ref kv, 1, null);
        }
        _later.Clear();
    }

    // One KeyValue object (the reader on its start, left on its end). Its value is read in place when its key
    // comes first, as senders write it; true when the key is reserved and nothing was added.
    private bool AddKeyValue(RecordBuilder b, scoped Span<byte> key, int prefixLen, ref Utf8JsonReader r,
        int level, Reserved? reserved)
    {
        int len = prefixLen; // no key: the empty one, as in protobuf
        bool hasKey = false, later = false, hasPending = false;
        Utf8JsonReader pending = default;
        while (OtlpJsonReading.Property(ref r))
        {
            if (OtlpJsonReading.Is(ref r, "key"u8, "key"u8))
            {
                r.Read();
                OtlpJsonReading.Expect(ref r, JsonTokenType.String, "a key must be a string");
                hasKey = true;
                len = RecordKeys.Append(key, prefixLen, Text(ref r));
                if (len >= 0 && reserved is not null && level == 1 && reserved(key[..len])) later = true;
            }
            else if (OtlpJsonReading.Is(ref r, "value"u8, "value"u8))
            {
                r.Read();
                if (!hasKey)
                {
                    pending = r;
                    hasPending = r.TokenType != JsonTokenType.Null;
                    r.Skip();
                }
                else if (later || len < 0) r.Skip();
                else AddValue(b, key, len, ref r, level);
            }
            else OtlpJsonReading.SkipValue(ref r);
        }
        if (len < 0)
        {
            b.Fail(RecordKeys.TooLong);
            return false;
        }
        if (later) return true;
        if (hasPending) AddValue(b, key, len, ref pending, level);
        return false;
    }

    /// <summary>The AnyValue the reader is on (an object, or null) as the field <c>key[..keyLen]</c>, read in
    /// place; the reader is left on its end.</summary>
    public void AddValue(RecordBuilder b, scoped Span<byte> key, int keyLen, ref Utf8JsonReader r,
        int level = 1)
    {
        if (r.TokenType == JsonTokenType.Null) return;
        OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "an AnyValue must be an object");
        var k = key[..keyLen];
        var kind = 0;
        while (OtlpJsonReading.Property(ref r))
        {
            if (!NextCase(ref r, ref kind)) continue;
            switch (kind)
            {
                case StringValue:
                    OtlpJsonReading.Expect(ref r, JsonTokenType.String, "stringValue must be a string");
                    JsonRecordReader.AddString(b, k, ref r);
                    break;
                case BoolValue:
                    b.AddBool(k, Bool(ref r));
                    break;
                case IntValue:
                    b.AddInt64(k, OtlpJsonReading.Int64(ref r, "intValue"));
                    break;
                case DoubleValue:
                    b.AddFloat64(k, OtlpJsonReading.Double(ref r, "doubleValue"));
                    break;
                case BytesValue:
                    b.AddString(k, Base64(ref r));
                    break;
                case KvlistValue when level < b.Limits.FlattenLevel:
                    OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "kvlistValue must be an object");
                    if (!Values(ref r)) break;
                    AddAttributes(b, key, keyLen, ref r, level + 1);
                    while (OtlpJsonReading.Property(ref r)) OtlpJsonReading.SkipValue(ref r);
                    break;
                default:
                    b.AddJson(k, Json(kind, ref r));
                    break;
            }
        }
    }

    // The reader on an AnyValue's property name is moved onto its value; true on a case that is set (not null),
    // its kind in `kind`. A second case set refuses the value, as protobuf's JSON parser does.
    private static bool NextCase(ref Utf8JsonReader r, ref int kind)
    {
        var next = Case(ref r);
        r.Read();
        if (next == 0 || r.TokenType == JsonTokenType.Null)
        {
            r.Skip();
            return false;
        }
        if (kind != 0) throw new OtlpJsonException("an AnyValue holds one value");
        kind = next;
        return true;
    }

    private static int Case(ref Utf8JsonReader r)
    {
        if (OtlpJsonReading.Is(ref r, "stringValue"u8, "string_value"u8)) return StringValue;
        if (OtlpJsonReading.Is(ref r, "intValue"u8, "int_value"u8)) return IntValue;
        if (OtlpJsonReading.Is(ref r, "boolValue"u8, "bool_value"u8)) return BoolValue;
        if (OtlpJsonReading.Is(ref r, "doubleValue"u8, "double_value"u8)) return DoubleValue;
        if (OtlpJsonReading.Is(ref r, "kvlistValue"u8, "kvlist_value"u8)) return KvlistValue;
        if (OtlpJsonReading.Is(ref r, "arrayValue"u8, "array_value"u8)) return ArrayValue;
        if (OtlpJsonReading.Is(ref r, "bytesValue"u8, "bytes_value"u8)) return BytesValue;
        return 0;
    }

    private static bool Bool(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw new OtlpJsonException("boolValue must be true or false"),
    };

    // The reader on an arrayValue or kvlistValue object is moved onto its "values" array; false when it has none.
    private static bool Values(ref Utf8JsonReader r)
    {
        if (!OtlpJsonReading.Find(ref r, "values"u8, "values"u8)) return false;
        if (r.TokenType != JsonTokenType.Null) return true;
        while (OtlpJsonReading.Property(ref r)) OtlpJsonReading.SkipValue(ref r);
        return false;
    }

    private static ReadOnlySpan<byte> Text(ref Utf8JsonReader r) =>
        r.ValueIsEscaped ? (ReadOnlySpan<byte>)Utf8Text.UnescapeLenient(r.ValueSpan) : r.ValueSpan;

    // bytesValue's bytes; senders may use the URL-safe alphabet or leave the padding out.
    private static byte[] Bytes(ref Utf8JsonReader r)
    {
        OtlpJsonReading.Expect(ref r, JsonTokenType.String, "bytesValue must be a string");
        var text = Text(ref r);
        var padded = new byte[(text.Length + 3) / 4 * 4];
        for (var i = 0; i < text.Length; i++)
            padded[i] = text[i] switch { (byte)'-' => (byte)'+', (byte)'_' => (byte)'/', var c => c };
        padded.AsSpan(text.Length).Fill((byte)'=');
        if (System.Buffers.Text.Base64.DecodeFromUtf8InPlace(padded, out var length) != OperationStatus.Done)
            throw new OtlpJsonException("bytesValue is not base64");
        return padded[..length];
    }

    // The bytes in standard base64 with padding, as protobuf's bytes are given.
    private static byte[] Base64(ref Utf8JsonReader r)
    {
        var bytes = Bytes(ref r);
        var encoded = new byte[System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(bytes.Length)];
        System.Buffers.Text.Base64.EncodeToUtf8(bytes, encoded, out _, out var written);
        return encoded[..written];
    }

    /// <summary>An arrayValue or kvlistValue (the reader on its object) as plain JSON (strings, numbers, arrays,
    /// objects), valid until the next call.</summary>
    private ReadOnlySpan<byte> Json(int kind, ref Utf8JsonReader r)
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        WriteCase(kind, ref r, 0);
        _writer.Flush();
        return _json.WrittenSpan;
    }

    // The AnyValue the reader is on (an object, or null); deeper than MaxJsonDepth, null.
    private void WriteValue(ref Utf8JsonReader r, int depth)
    {
        if (depth > MaxJsonDepth || r.TokenType == JsonTokenType.Null)
        {
            r.Skip();
            _writer.WriteNullValue();
            return;
        }
        OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "an AnyValue must be an object");
        var kind = 0;
        while (OtlpJsonReading.Property(ref r))
            if (NextCase(ref r, ref kind)) WriteCase(kind, ref r, depth);
        if (kind == 0) _writer.WriteNullValue();
    }

    // One case's value, the reader on it.
    private void WriteCase(int kind, ref Utf8JsonReader r, int depth)
    {
        switch (kind)
        {
            case StringValue:
                OtlpJsonReading.Expect(ref r, JsonTokenType.String, "stringValue must be a string");
                var text = Text(ref r);
                _writer.WriteStringValue(Utf8.IsValid(text) ? text : Utf8Text.Repair(text));
                break;
            case BoolValue: _writer.WriteBooleanValue(Bool(ref r)); break;
            case IntValue: _writer.WriteNumberValue(OtlpJsonReading.Int64(ref r, "intValue")); break;
            case DoubleValue:
                var d = OtlpJsonReading.Double(ref r, "doubleValue");
                if (double.IsFinite(d)) _writer.WriteNumberValue(d);
                else _writer.WriteNullValue();
                break;
            case BytesValue: _writer.WriteBase64StringValue(Bytes(ref r)); break;
            case ArrayValue:
                OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "arrayValue must be an object");
                _writer.WriteStartArray();
                if (Values(ref r))
                {
                    OtlpJsonReading.Expect(ref r, JsonTokenType.StartArray, "values must be an array");
                    while (OtlpJsonReading.Element(ref r, "an AnyValue")) WriteValue(ref r, depth + 1);
                    while (OtlpJsonReading.Property(ref r)) OtlpJsonReading.SkipValue(ref r);
                }
                _writer.WriteEndArray();
                break;
            default:
                OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "kvlistValue must be an object");
                WriteKeyValues(ref r, depth);
                break;
        }
    }

    // A kvlistValue (the reader on its object) as a JSON object.
    private void WriteKeyValues(ref Utf8JsonReader r, int depth)
    {
        _writer.WriteStartObject();
        if (Values(ref r))
        {
            OtlpJsonReading.Expect(ref r, JsonTokenType.StartArray, "values must be an array");
            while (OtlpJsonReading.Element(ref r, "a key-value")) WriteKeyValue(ref r, depth);
            while (OtlpJsonReading.Property(ref r)) OtlpJsonReading.SkipValue(ref r);
        }
        _writer.WriteEndObject();
    }

    // One KeyValue object as a property; its value is written in place when its key comes first.
    private void WriteKeyValue(ref Utf8JsonReader r, int depth)
    {
        bool named = false, valued = false, hasPending = false;
        Utf8JsonReader pending = default;
        while (OtlpJsonReading.Property(ref r))
        {
            var isKey = OtlpJsonReading.Is(ref r, "key"u8, "key"u8);
            if (!isKey && !OtlpJsonReading.Is(ref r, "value"u8, "value"u8))
            {
                OtlpJsonReading.SkipValue(ref r);
                continue;
            }
            r.Read();
            if (isKey ? named : valued) throw new OtlpJsonException("a key-value holds one key and one value");
            if (isKey)
            {
                OtlpJsonReading.Expect(ref r, JsonTokenType.String, "a key must be a string");
                var key = Text(ref r);
                _writer.WritePropertyName(Utf8.IsValid(key) ? key : Utf8Text.Repair(key));
                named = true;
                continue;
            }
            valued = true;
            if (named) WriteValue(ref r, depth + 1);
            else
            {
                pending = r;
                hasPending = true;
                r.Skip();
            }
        }
        if (!named) _writer.WritePropertyName(""u8); // no key: the empty one, as in protobuf
        if (hasPending) WriteValue(ref pending, depth + 1);
        else if (!valued) _writer.WriteNullValue();
    }

    /// <summary>Holds the key-values of the array the reader is on (or null) to OTLP/JSON's types, all the way
    /// down, by writing them as JSON; the reader is left on the array's end.</summary>
    public void CheckAttributes(ref Utf8JsonReader r)
    {
        if (!OtlpJsonReading.StartArray(ref r, "key-values")) return;
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        _writer.WriteStartObject();
        while (OtlpJsonReading.Element(ref r, "a key-value")) WriteKeyValue(ref r, 0);
        _writer.WriteEndObject();
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>An OTLP/JSON body that is valid JSON but not the request: a value of the wrong type.</summary>
public sealed class OtlpJsonException(string message) : Exception(message);
