using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using MoleSignal.Gateway.Ingest.Json;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP/JSON's <c>KeyValue</c> and <c>AnyValue</c> read with a <see cref="Utf8JsonReader"/> into record fields,
/// the way <see cref="OtlpWireValues"/> reads them from protobuf: attributes become fields (nested key-value lists
/// flattened with '_' up to the flatten level, arrays and deeper lists kept as JSON), bytes in standard base64.
/// Property order is free in JSON, so a key may follow its value and a oneof's cases are read to the last one.
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

    /// <summary>One AnyValue's last case: its kind, its number, and the reader on its JSON value.</summary>
    private ref struct Any
    {
        public int Kind;
        public long Int;
        public double Double;
        public Utf8JsonReader At;
    }

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

    /// <summary>The AnyValue the reader is on (an object, or null) as the field <c>key[..keyLen]</c>.</summary>
    public void AddValue(RecordBuilder b, scoped Span<byte> key, int keyLen, ref Utf8JsonReader r,
        int level = 1)
    {
        var any = Last(ref r);
        var k = key[..keyLen];
        switch (any.Kind)
        {
            case StringValue:
                JsonRecordReader.AddString(b, k, ref any.At);
                break;
            case BoolValue:
                b.AddBool(k, any.Int != 0);
                break;
            case IntValue:
                b.AddInt64(k, any.Int);
                break;
            case DoubleValue:
                b.AddFloat64(k, any.Double);
                break;
            case BytesValue:
                b.AddString(k, Base64(ref any.At));
                break;
            case KvlistValue when level < b.Limits.FlattenLevel:
                if (Values(ref any.At)) AddAttributes(b, key, keyLen, ref any.At, level + 1);
                break;
            case KvlistValue or ArrayValue:
                b.AddJson(k, Json(any));
                break;
        }
    }

    // Reads the AnyValue object to its end; null or {} has no case.
    private static Any Last(ref Utf8JsonReader r)
    {
        var any = new Any();
        if (r.TokenType == JsonTokenType.Null) return any;
        OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "an AnyValue must be an object");
        while (OtlpJsonReading.Property(ref r))
        {
            var kind = Case(ref r);
            r.Read();
            if (kind == 0 || r.TokenType == JsonTokenType.Null)
            {
                r.Skip();
                continue;
            }
            switch (kind)
            {
                case StringValue or BytesValue:
                    OtlpJsonReading.Expect(ref r, JsonTokenType.String, "stringValue and bytesValue are strings");
                    break;
                case BoolValue:
                    if (r.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                        throw new OtlpJsonException("boolValue must be true or false");
                    any.Int = r.TokenType == JsonTokenType.True ? 1 : 0;
                    break;
                case IntValue:
                    any.Int = OtlpJsonReading.Int64(ref r, "intValue");
                    break;
                case DoubleValue:
                    any.Double = OtlpJsonReading.Double(ref r, "doubleValue");
                    break;
                default:
                    OtlpJsonReading.Expect(ref r, JsonTokenType.StartObject, "arrayValue and kvlistValue are objects");
                    break;
            }
            any.Kind = kind;
            any.At = r;
            r.Skip();
        }
        return any;
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

    // A KeyValue object: its key (the reader on the string) and its value when it has one.
    private static bool ReadKeyValue(ref Utf8JsonReader r, out Utf8JsonReader name, out Utf8JsonReader value)
    {
        name = default; // no key: the empty one, as in protobuf
        value = default;
        var hasValue = false;
        while (OtlpJsonReading.Property(ref r))
        {
            if (OtlpJsonReading.Is(ref r, "key"u8, "key"u8))
            {
                r.Read();
                OtlpJsonReading.Expect(ref r, JsonTokenType.String, "a key must be a string");
                name = r;
            }
            else if (OtlpJsonReading.Is(ref r, "value"u8, "value"u8))
            {
                r.Read();
                value = r;
                hasValue = r.TokenType != JsonTokenType.Null;
                r.Skip();
            }
            else
            {
                r.Read();
                r.Skip();
            }
        }
        return hasValue;
    }

    // The reader on an arrayValue or kvlistValue object is moved onto its "values" array; false when it has none.
    private static bool Values(ref Utf8JsonReader r)
    {
        if (!OtlpJsonReading.Find(ref r, "values"u8, "values"u8)) return false;
        return r.TokenType != JsonTokenType.Null;
    }

    private static ReadOnlySpan<byte> Text(ref Utf8JsonReader r) =>
        r.ValueIsEscaped ? (ReadOnlySpan<byte>)Utf8Text.UnescapeLenient(r.ValueSpan) : r.ValueSpan;

    // bytesValue's bytes; senders may use the URL-safe alphabet or leave the padding out.
    private static byte[] Bytes(ref Utf8JsonReader r)
    {
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

    /// <summary>The value as plain JSON (strings, numbers, arrays, objects), valid until the next call.</summary>
    private ReadOnlySpan<byte> Json(Any any)
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        Write(any, 0);
        _writer.Flush();
        return _json.WrittenSpan;
    }

    private void Write(ref Utf8JsonReader r, int depth)
    {
        if (depth > MaxJsonDepth)
        {
            r.Skip();
            _writer.WriteNullValue();
            return;
        }
        Write(Last(ref r), depth);
    }

    private void Write(Any any, int depth)
    {
        switch (any.Kind)
        {
            case StringValue:
                var text = Text(ref any.At);
                _writer.WriteStringValue(Utf8.IsValid(text) ? text : Utf8Text.Repair(text));
                break;
            case BoolValue: _writer.WriteBooleanValue(any.Int != 0); break;
            case IntValue: _writer.WriteNumberValue(any.Int); break;
            case DoubleValue when double.IsFinite(any.Double): _writer.WriteNumberValue(any.Double); break;
            case BytesValue: _writer.WriteBase64StringValue(Bytes(ref any.At)); break;
            case ArrayValue:
                _writer.WriteStartArray();
                if (Values(ref any.At))
                {
                    OtlpJsonReading.Expect(ref any.At, JsonTokenType.StartArray, "values must be an array");
                    while (OtlpJsonReading.Element(ref any.At, "an AnyValue")) Write(ref any.At, depth + 1);
                }
                _writer.WriteEndArray();
                break;
            case KvlistValue:
                _writer.WriteStartObject();
                if (Values(ref any.At))
                {
                    OtlpJsonReading.Expect(ref any.At, JsonTokenType.StartArray, "values must be an array");
                    while (OtlpJsonReading.Element(ref any.At, "a key-value"))
                    {
                        var hasValue = ReadKeyValue(ref any.At, out var name, out var value);
                        var key = Text(ref name);
                        _writer.WritePropertyName(Utf8.IsValid(key) ? key : Utf8Text.Repair(key));
                        if (hasValue) Write(ref value, depth + 1);
                        else _writer.WriteNullValue();
                    }
                }
                _writer.WriteEndObject();
                break;
            default:
                _writer.WriteNullValue();
                break;
        }
    }

    /// <summary>Holds the key-values of the array the reader is on (or null) to OTLP/JSON's types, all the way
    /// down; the reader is left on the array's end.</summary>
    public static void CheckAttributes(ref Utf8JsonReader r)
    {
        if (!OtlpJsonReading.StartArray(ref r, "key-values")) return;
        while (OtlpJsonReading.Element(ref r, "a key-value"))
            if (ReadKeyValue(ref r, out _, out var value)) CheckValue(ref value);
    }

    private static void CheckValue(ref Utf8JsonReader r)
    {
        var any = Last(ref r);
        if (any.Kind is not (ArrayValue or KvlistValue) || !Values(ref any.At)) return;
        if (any.Kind == KvlistValue)
        {
            CheckAttributes(ref any.At);
            return;
        }
        OtlpJsonReading.Expect(ref any.At, JsonTokenType.StartArray, "values must be an array");
        while (OtlpJsonReading.Element(ref any.At, "an AnyValue")) CheckValue(ref any.At);
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>An OTLP/JSON body that is valid JSON but not the request: a value of the wrong type.</summary>
public sealed class OtlpJsonException(string message) : Exception(message);
