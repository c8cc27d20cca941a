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
        var a = v == long.MinValue ? long.MaxValue : Math.Abs(v);
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
        return (long)Math.Clamp(Math.Round(v / 1e3), long.MinValue, long.MaxValue); // out of range: rejected later
    }

    /// <summary>An unescaped JSON string: RFC 3339 parsed by hand (the common case), else the general parsers.</summary>
    public static bool TryFromUtf8(ReadOnlySpan<byte> s, out long micros) =>
        TryRfc3339(s, out micros) || TryFromString(System.Text.Encoding.UTF8.GetString(s), out micros);

    /// <summary><c>yyyy-MM-ddTHH:mm:ss[.fraction](Z|±HH:MM)</c>.</summary>
    public static bool TryRfc3339(ReadOnlySpan<byte> s, out long micros)
    {
        micros = 0;
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
            return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day) ||
            !Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute) || !Digits(s, 17, 2, out var second))
            return false;
        var i = 19;
        long fraction = 0;
        if (s[i] == '.')
        {
            i++;
            var digits = 0;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                if (digits < 6) { fraction = fraction * 10 + (s[i] - '0'); digits++; }
                i++;
            }
            if (digits == 0) return false;
            for (; digits < 6; digits++) fraction *= 10;
        }
        if (i >= s.Length) return false;
        long offsetMinutes = 0;
        if (s[i] is (byte)'Z' or (byte)'z')
        {
            i++;
        }
        else if (s[i] is (byte)'+' or (byte)'-')
        {
            if (i + 6 != s.Length || s[i + 3] != ':' || !Digits(s, i + 1, 2, out var oh) || !Digits(s, i + 4, 2, out var om)) return false;
            offsetMinutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
            i += 6;
        }
        else
        {
            return false;
        }
        if (i != s.Length || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year is >= 1 and <= 9999 ? year : 2000, month)
            || hour > 23 || minute > 59 || second > 60 || year is < 1 or > 9999)
            return false;
        var days = new DateOnly(year, month, day).DayNumber - DateOnly.FromDayNumber(719162).DayNumber; // days since 1970-01-01
        micros = (((days * 24L + hour) * 60 + minute - offsetMinutes) * 60 + Math.Min(second, 59)) * 1_000_000 + fraction;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> s, int at, int count, out int value)
    {
        value = 0;
        for (var i = at; i < at + count; i++)
        {
            var d = (uint)(s[i] - '0');
            if (d > 9) return false;
            value = value * 10 + (int)d;
        }
        return true;
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
