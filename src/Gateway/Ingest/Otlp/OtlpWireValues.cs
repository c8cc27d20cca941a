using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// OTLP's <c>KeyValue</c> and <c>AnyValue</c> read from the wire (<see cref="ProtoWire"/>) into record fields, the
/// way <see cref="OtlpValues"/> does from parsed messages: attributes become fields (nested key-value lists
/// flattened with '_' up to the flatten level, arrays and deeper lists kept as JSON), bytes base64, text as its
/// UTF-8 bytes, refusing (<see cref="ProtoWireException"/>) a string that is not UTF-8 as it reads it.
/// <see cref="CheckAttributes"/> and <see cref="CheckValue"/> hold values that are not read into fields to what
/// Google.Protobuf's parser would accept (structure, UTF-8, nesting).
/// </summary>
public sealed class OtlpWireValues : IDisposable
{
    // AnyValue: string, bool, int, double, array, kvlist, bytes. KeyValue: key, value. ArrayValue and
    // KeyValueList: values.
    private const int StringValue = 1, BoolValue = 2, IntValue = 3, DoubleValue = 4, ArrayValue = 5,
        KvlistValue = 6, BytesValue = 7, Key = 1, Value = 2, Values = 1;

    /// <summary>Google.Protobuf's default recursion limit.</summary>
    private const int MaxNesting = 100;

    private readonly ArrayBufferWriter<byte> _json = new(1024);
    private readonly Utf8JsonWriter _writer;
    private byte[] _base64 = ArrayPool<byte>.Shared.Rent(256);

    public OtlpWireValues() => _writer = new Utf8JsonWriter(_json, new JsonWriterOptions { SkipValidation = true });

    /// <summary>Every <c>KeyValue</c> in field <paramref name="field"/> of <paramref name="message"/> as a field
    /// under <paramref name="prefixLen"/> bytes of key.</summary>
    public void AddAttributes(RecordBuilder b, Span<byte> key, int prefixLen, ProtoWire message, int field,
        int level = 1)
    {
        while (message.Next(out var f, out var type))
        {
            if (f != field || type != ProtoWire.LengthDelimited)
            {
                message.Skip(type);
                continue;
            }
            if (b.Failed) return;
            var hasValue = ReadKeyValue(message.ReadMessage(), out var name, out var value);
            var len = RecordKeys.Append(key, prefixLen, name);
            if (len < 0)
            {
                b.Fail(RecordKeys.TooLong);
                return;
            }
            if (hasValue) AddValue(b, key, len, value, level);
        }
    }

    /// <summary>An <c>AnyValue</c> as the field <c>key[..keyLen]</c> (of a oneof, the last case given wins).
    /// </summary>
    public void AddValue(RecordBuilder b, Span<byte> key, int keyLen, ProtoWire value, int level = 1)
    {
        var k = key[..keyLen];
        var kind = Last(value, out var bits, out var bytes);
        switch (kind)
        {
            case StringValue:
                b.AddString(k, bytes);
                break;
            case BoolValue:
                b.AddBool(k, bits != 0);
                break;
            case IntValue:
                b.AddInt64(k, (long)bits);
                break;
            case DoubleValue:
                b.AddFloat64(k, BitConverter.UInt64BitsToDouble(bits));
                break;
            case BytesValue:
                b.AddString(k, Base64Of(bytes));
                break;
            case KvlistValue when level < b.Limits.FlattenLevel:
                AddAttributes(b, key, keyLen, value.LastMessage(KvlistValue), Values, level + 1);
                break;
            case KvlistValue or ArrayValue:
                b.AddJson(k, Json(value));
                break;
        }
    }

    // The oneof's last case: its number, its varint or fixed64 bits, or its bytes.
    private static int Last(ProtoWire value, out ulong bits, out ReadOnlySpan<byte> bytes)
    {
        var kind = 0;
        bits = 0;
        bytes = default;
        while (value.Next(out var f, out var type))
        {
            switch (f, type)
            {
                case (StringValue, ProtoWire.LengthDelimited):
                    bytes = value.ReadString();
                    kind = f;
                    break;
                case (BytesValue or ArrayValue or KvlistValue, ProtoWire.LengthDelimited):
                    bytes = value.ReadBytes();
                    kind = f;
                    break;
                case (BoolValue or IntValue, ProtoWire.Varint):
                    bits = value.ReadVarint();
                    kind = f;
                    break;
                case (DoubleValue, ProtoWire.Fixed64):
                    bits = value.ReadFixed64();
                    kind = f;
                    break;
                default:
                    value.Skip(type);
                    break;
            }
        }
        return kind;
    }

    // A KeyValue: its key, and its value when it has one.
    private static bool ReadKeyValue(ProtoWire kv, out ReadOnlySpan<byte> name, out ProtoWire value)
    {
        name = default;
        value = default;
        var hasValue = false;
        while (kv.Next(out var f, out var type))
        {
            if (type != ProtoWire.LengthDelimited) kv.Skip(type);
            else if (f == Key) name = kv.ReadString();
            else if (f == Value)
            {
                value = kv.ReadMessage();
                hasValue = true;
            }
            else kv.Skip(type);
        }
        return hasValue;
    }

    private ReadOnlySpan<byte> Base64Of(ReadOnlySpan<byte> bytes)
    {
        var need = Base64.GetMaxEncodedToUtf8Length(bytes.Length);
        if (need > _base64.Length)
        {
            ArrayPool<byte>.Shared.Return(_base64);
            _base64 = ArrayPool<byte>.Shared.Rent(need);
        }
        Base64.EncodeToUtf8(bytes, _base64, out _, out var written);
        return _base64.AsSpan(0, written);
    }

    /// <summary>The value as plain JSON (strings, numbers, arrays, objects), valid until the next call.</summary>
    private ReadOnlySpan<byte> Json(ProtoWire value)
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        Write(value, 0);
        _writer.Flush();
        return _json.WrittenSpan;
    }

    private void Write(ProtoWire value, int depth)
    {
        if (depth > 32)
        {
            CheckValue(value, depth); // not written, still held to the parser's rules
            _writer.WriteNullValue();
            return;
        }
        var kind = Last(value, out var bits, out var bytes);
        switch (kind)
        {
            case StringValue: _writer.WriteStringValue(bytes); break;
            case BoolValue: _writer.WriteBooleanValue(bits != 0); break;
            case IntValue: _writer.WriteNumberValue((long)bits); break;
            case DoubleValue when double.IsFinite(BitConverter.UInt64BitsToDouble(bits)):
                _writer.WriteNumberValue(BitConverter.UInt64BitsToDouble(bits));
                break;
            case BytesValue: _writer.WriteBase64StringValue(bytes); break;
            case ArrayValue:
                _writer.WriteStartArray();
                var array = value.LastMessage(ArrayValue);
                while (array.Next(out var f, out var type))
                {
                    if (f == Values && type == ProtoWire.LengthDelimited) Write(array.ReadMessage(), depth + 1);
                    else array.Skip(type);
                }
                _writer.WriteEndArray();
                break;
            case KvlistValue:
                _writer.WriteStartObject();
                var list = value.LastMessage(KvlistValue);
                while (list.Next(out var f, out var type))
                {
                    if (f != Values || type != ProtoWire.LengthDelimited)
                    {
                        list.Skip(type);
                        continue;
                    }
                    var hasValue = ReadKeyValue(list.ReadMessage(), out var name, out var item);
                    _writer.WritePropertyName(name);
                    if (hasValue) Write(item, depth + 1);
                    else _writer.WriteNullValue();
                }
                _writer.WriteEndObject();
                break;
            default:
                _writer.WriteNullValue();
                break;
        }
    }

    /// <summary>Checks every <c>KeyValue</c> in field <paramref name="field"/> of the message; other fields are
    /// passed over.</summary>
    public static void CheckAttributes(ProtoWire message, int field, int depth = 0)
    {
        if (depth > MaxNesting) throw new ProtoWireException("values nested too deep");
        while (message.Next(out var f, out var type))
        {
            if (f == field && type == ProtoWire.LengthDelimited) CheckKeyValue(message.ReadMessage(), depth + 1);
            else message.Skip(type);
        }
    }

    /// <summary>Checks one <c>KeyValue</c> message.</summary>
    public static void CheckKeyValue(ProtoWire kv, int depth = 0)
    {
        while (kv.Next(out var f, out var type))
        {
            if (type != ProtoWire.LengthDelimited) kv.Skip(type);
            else if (f == Key) kv.ReadString();
            else if (f == Value) CheckValue(kv.ReadMessage(), depth + 1);
            else kv.Skip(type);
        }
    }

    public static void CheckValue(ProtoWire value, int depth = 0)
    {
        if (depth > MaxNesting) throw new ProtoWireException("values nested too deep");
        while (value.Next(out var f, out var type))
        {
            if (type != ProtoWire.LengthDelimited) value.Skip(type);
            else if (f == StringValue) value.ReadString();
            else if (f == ArrayValue)
            {
                var array = value.ReadMessage();
                while (array.Next(out var af, out var at))
                {
                    if (af == Values && at == ProtoWire.LengthDelimited) CheckValue(array.ReadMessage(), depth + 1);
                    else array.Skip(at);
                }
            }
            else if (f == KvlistValue) CheckAttributes(value.ReadMessage(), Values, depth + 1);
            else value.Skip(type);
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        if (_base64.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_base64);
        _base64 = [];
    }
}
