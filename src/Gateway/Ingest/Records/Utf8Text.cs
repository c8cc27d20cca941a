using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// Text values are stored as valid UTF-8: Parquet readers refuse a file holding anything else, so one bad byte
/// would make a whole stream unreadable. Invalid sequences become U+FFFD (the record keeps every other byte).
/// </summary>
public static class Utf8Text
{
    /// <summary>The bytes with every invalid sequence replaced by U+FFFD (Encoding.UTF8's replacement rules).</summary>
    public static byte[] Repair(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes));

    /// <summary>
    /// Unescapes a JSON string's raw text without failing: <c>\u</c> escapes of lone surrogates become U+FFFD
    /// (System.Text.Json refuses them), as do malformed escapes. The result may still hold invalid raw bytes.
    /// </summary>
    public static byte[] UnescapeLenient(ReadOnlySpan<byte> raw)
    {
        var output = new ArrayBufferWriter<byte>(raw.Length + 16);
        Span<byte> rune = stackalloc byte[4];
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b != '\\' || i + 1 >= raw.Length)
            {
                output.Write([b]);
                continue;
            }
            var e = raw[++i];
            byte single = e switch
            {
                (byte)'n' => (byte)'\n', (byte)'t' => (byte)'\t', (byte)'r' => (byte)'\r', (byte)'b' => (byte)'\b',
                (byte)'f' => (byte)'\f', (byte)'u' => 0, _ => e,
            };
            if (e != 'u')
            {
                output.Write([single]);
                continue;
            }
            if (!Hex4(raw, i + 1, out var unit))
            {
                WriteRune(output, Rune.ReplacementChar, rune);
                continue;
            }
            i += 4;
            var value = Rune.ReplacementChar;
            if (!char.IsSurrogate((char)unit)) value = new Rune(unit);
            else if (char.IsHighSurrogate((char)unit) && i + 2 < raw.Length && raw[i + 1] == '\\' && raw[i + 2] == 'u'
                     && Hex4(raw, i + 3, out var low) && char.IsLowSurrogate((char)low))
            {
                value = new Rune((char)unit, (char)low);
                i += 6;
            }
            WriteRune(output, value, rune);
        }
        return output.WrittenSpan.ToArray();
    }

    private static void WriteRune(ArrayBufferWriter<byte> output, Rune r, Span<byte> scratch)
    {
        var n = r.EncodeToUtf8(scratch);
        output.Write(scratch[..n]);
    }

    private static bool Hex4(ReadOnlySpan<byte> raw, int at, out int value)
    {
        value = 0;
        return at + 4 <= raw.Length && Utf8Parser.TryParse(raw.Slice(at, 4), out value, out var used, 'X') && used == 4;
    }
}
