using System.Buffers.Text;
using System.Globalization;

namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// <c>_timestamp</c> values to int64 µs: numbers are scaled by magnitude (s, ms, µs, ns); strings are RFC 3339
/// (or a number in a string).
/// </summary>
public static class TimestampParser
{
    public static bool TryFromNumber(ReadOnlySpan<byte> raw, out long micros)
    {
        if (Utf8Parser.TryParse(raw, out long l, out var used) && used == raw.Length)
        {
            micros = Scale(l);
            return true;
        }
        if (Utf8Parser.TryParse(raw, out double d, out used) && used == raw.Length && double.IsFinite(d))
        {
            micros = ScaleDouble(d);
            return true;
        }
        micros = 0;
        return false;
    }

    public static long Scale(long v)
    {
        var a = Math.Abs(v);
        if (a < 100_000_000_000L) return v * 1_000_000;          // seconds (until year 5138)
        if (a < 100_000_000_000_000L) return v * 1_000;           // milliseconds
        if (a < 100_000_000_000_000_000L) return v;               // microseconds
        return v / 1_000;                                        // nanoseconds
    }

    private static long ScaleDouble(double v)
    {
        var a = Math.Abs(v);
        if (a < 1e11) return (long)Math.Round(v * 1e6);
        if (a < 1e14) return (long)Math.Round(v * 1e3);
        if (a < 1e17) return (long)Math.Round(v);
        return (long)Math.Round(v / 1e3);
    }

    public static bool TryFromString(string s, out long micros)
    {
        if (TryFromNumber(System.Text.Encoding.ASCII.GetBytes(s.Trim()), out micros)) return true;
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var dto))
        {
            micros = (dto.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
            return true;
        }
        micros = 0;
        return false;
    }
}
