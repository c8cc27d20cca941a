using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using MoleSignal.Otlp.Common;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP values into record fields: attributes become fields (nested key-value lists flattened with '_' up to the
/// flatten level, arrays and deeper lists kept as JSON), ids become lowercase hex, bytes base64. Text goes to the
/// builder through <see cref="TextFields"/>.
/// </summary>
public sealed class OtlpValues : IDisposable
{
    private readonly TextFields _text = new();
    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly Utf8JsonWriter _writer;

    public OtlpValues() => _writer = new Utf8JsonWriter(_json);

    public static int Key(Span<byte> key, int prefixLen, string name) => TextFields.Key(key, prefixLen, name);

    public void AddString(RecordBuilder b, ReadOnlySpan<byte> key, string value) => _text.AddString(b, key, value);

    /// <summary>A trace or span id as 32 / 16 lowercase hex characters; an empty id adds nothing.</summary>
    public static void AddId(RecordBuilder b, ReadOnlySpan<byte> key, ByteString id) => AddId(b, key, id.Span);

    public static void AddId(RecordBuilder b, ReadOnlySpan<byte> key, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        // An id is 8 or 16 bytes; a sender's oversized one must not reach the stack.
        var hex = bytes.Length <= 64 ? stackalloc byte[bytes.Length * 2] : new byte[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            hex[2 * i] = Hex[bytes[i] >> 4];
            hex[2 * i + 1] = Hex[bytes[i] & 0xF];
        }
        b.AddString(key, hex);
    }

    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    /// <summary>Every attribute as a field under <paramref name="prefixLen"/> bytes of key.</summary>
    public void AddAttributes(RecordBuilder b, Span<byte> key, int prefixLen, RepeatedField<KeyValue> attributes,
        int level = 1)
    {
        foreach (var kv in attributes)
        {
            if (b.Failed) return;
            var len = Key(key, prefixLen, kv.Key);
            if (len < 0)
            {
                b.Fail(RecordKeys.TooLong);
                return;
            }
            AddValue(b, key, len, kv.Value, level);
        }
    }

    public void AddValue(RecordBuilder b, Span<byte> key, int keyLen, AnyValue? value, int level = 1)
    {
        if (value is null) return;
        var k = key[..keyLen];
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                AddString(b, k, value.StringValue);
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                b.AddBool(k, value.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                b.AddInt64(k, value.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                b.AddFloat64(k, value.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                AddString(b, k, value.BytesValue.ToBase64());
                break;
            case AnyValue.ValueOneofCase.KvlistValue when level < b.Limits.FlattenLevel:
                AddAttributes(b, key, keyLen, value.KvlistValue.Values, level + 1);
                break;
            case AnyValue.ValueOneofCase.KvlistValue or AnyValue.ValueOneofCase.ArrayValue:
                b.AddJson(k, Json(value));
                break;
        }
    }

    /// <summary>The value as plain JSON (strings, numbers, arrays, objects), valid until the next call.</summary>
    public ReadOnlySpan<byte> Json(AnyValue value)
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        Write(_writer, value, 0);
        _writer.Flush();
        return _json.WrittenSpan;
    }

    /// <summary>Writes the attributes as one JSON object (events, links).</summary>
    public static void WriteObject(Utf8JsonWriter w, RepeatedField<KeyValue> attributes, int depth = 0)
    {
        w.WriteStartObject();
        foreach (var kv in attributes)
        {
            w.WritePropertyName(kv.Key);
            Write(w, kv.Value, depth + 1);
        }
        w.WriteEndObject();
    }

    private const int MaxDepth = 32;

    private static void Write(Utf8JsonWriter w, AnyValue? v, int depth)
    {
        if (v is null || depth > MaxDepth)
        {
            w.WriteNullValue();
            return;
        }
        switch (v.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue: w.WriteStringValue(v.StringValue); break;
            case AnyValue.ValueOneofCase.BoolValue: w.WriteBooleanValue(v.BoolValue); break;
            case AnyValue.ValueOneofCase.IntValue: w.WriteNumberValue(v.IntValue); break;
            case AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(v.DoubleValue):
                w.WriteNumberValue(v.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue: w.WriteStringValue(v.BytesValue.ToBase64()); break;
            case AnyValue.ValueOneofCase.ArrayValue:
                w.WriteStartArray();
                foreach (var item in v.ArrayValue.Values) Write(w, item, depth + 1);
                w.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                WriteObject(w, v.KvlistValue.Values, depth);
                break;
            default: w.WriteNullValue(); break;
        }
    }

    /// <summary>Nanoseconds since the epoch to the record's µs timestamp (0: none given).</summary>
    public static void SetTimestamp(RecordBuilder b, ulong nanos, int priority)
    {
        if (nanos > 0) b.SetTimestamp((long)(nanos / 1000), priority);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _text.Dispose();
    }
}
