using System.Buffers.Text;
using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Otlp;

/// <summary>
/// Steps of OTLP/JSON's structure over a <see cref="Utf8JsonReader"/>, refusing a value of the wrong JSON type
/// with <see cref="OtlpJsonException"/>. The protobuf JSON mapping reads a field under its lowerCamelCase name or
/// its .proto name, and null as the field left out.
/// </summary>
public static class OtlpJsonReading
{
    /// <summary>Objects nest about four levels per AnyValue level; this leaves room for 60 of them.</summary>
    public static readonly JsonReaderOptions Options = new() { MaxDepth = 256 };

    /// <summary>Reads the next token of an object: true on a property name, false on the object's end.</summary>
    public static bool Property(ref Utf8JsonReader r) => r.Read() && r.TokenType == JsonTokenType.PropertyName;

    /// <summary>Whether the property name the reader is on is <paramref name="camel"/> or
    /// <paramref name="snake"/>.</summary>
    public static bool Is(ref Utf8JsonReader r, scoped ReadOnlySpan<byte> camel, scoped ReadOnlySpan<byte> snake) =>
        r.ValueTextEquals(camel) || (snake.Length != camel.Length && r.ValueTextEquals(snake));

    /// <summary>Reads the next element of an array of objects: true on an element's start, false on the end.
    /// </summary>
    public static bool Element(ref Utf8JsonReader r, string what)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.EndArray) return false;
        Expect(ref r, JsonTokenType.StartObject, what, "must be an object");
        return true;
    }

    /// <summary>True when the reader is on an array's start, false on null.</summary>
    public static bool StartArray(ref Utf8JsonReader r, string what)
    {
        if (r.TokenType == JsonTokenType.Null) return false;
        Expect(ref r, JsonTokenType.StartArray, what, "must be an array");
        return true;
    }

    /// <summary>True when the reader is on an object's start, false on null.</summary>
    public static bool StartObject(ref Utf8JsonReader r, string what)
    {
        if (r.TokenType == JsonTokenType.Null) return false;
        Expect(ref r, JsonTokenType.StartObject, what, "must be an object");
        return true;
    }

    public static void Expect(ref Utf8JsonReader r, JsonTokenType type, string message)
    {
        if (r.TokenType != type) throw new OtlpJsonException(message);
    }

    /// <summary>The same with the message "<paramref name="what"/> <paramref name="must"/>", made only when it is
    /// thrown: this runs for every value.</summary>
    public static void Expect(ref Utf8JsonReader r, JsonTokenType type, string what, string must)
    {
        if (r.TokenType != type) throw new OtlpJsonException($"{what} {must}");
    }

    /// <summary>True when the reader is on a string, false on null.</summary>
    public static bool String(ref Utf8JsonReader r, string what)
    {
        if (r.TokenType == JsonTokenType.Null) return false;
        Expect(ref r, JsonTokenType.String, what, "must be a string");
        return true;
    }

    /// <summary>Moves a reader on an object's start to the value of its first property of that name; false
    /// (the reader on the object's end) when it has none.</summary>
    public static bool Find(ref Utf8JsonReader r, scoped ReadOnlySpan<byte> camel, scoped ReadOnlySpan<byte> snake)
    {
        while (Property(ref r))
        {
            var match = Is(ref r, camel, snake);
            r.Read();
            if (match) return true;
            r.Skip();
        }
        return false;
    }

    /// <summary>Skips the value of the property the reader is on.</summary>
    public static void SkipValue(ref Utf8JsonReader r)
    {
        r.Read();
        r.Skip();
    }

    public static long Int64(ref Utf8JsonReader r, string what)
    {
        if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var n)) return n;
        if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped
            && Utf8Parser.TryParse(r.ValueSpan, out n, out var used) && used == r.ValueSpan.Length)
            return n;
        throw new OtlpJsonException($"{what} must be a 64-bit integer");
    }

    public static ulong UInt64(ref Utf8JsonReader r, string what)
    {
        if (r.TokenType == JsonTokenType.Number && r.TryGetUInt64(out var n)) return n;
        if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped
            && Utf8Parser.TryParse(r.ValueSpan, out n, out var used) && used == r.ValueSpan.Length)
            return n;
        throw new OtlpJsonException($"{what} must be an unsigned 64-bit integer");
    }

    public static double Double(ref Utf8JsonReader r, string what)
    {
        if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out var d)) return d;
        if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped)
        {
            var s = r.ValueSpan;
            if (s.SequenceEqual("NaN"u8)) return double.NaN;
            if (s.SequenceEqual("Infinity"u8)) return double.PositiveInfinity;
            if (s.SequenceEqual("-Infinity"u8)) return double.NegativeInfinity;
            if (Utf8Parser.TryParse(s, out d, out var used) && used == s.Length) return d;
        }
        throw new OtlpJsonException($"{what} must be a number");
    }
}
