using System.Buffers;
using System.Buffers.Text;

namespace MoleSignal.Gateway.Ingest.Syslog;

/// <summary>
/// One syslog message into a record. RFC 5424 (<c>&lt;PRI&gt;1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG</c>) and
/// RFC 3164 (<c>&lt;PRI&gt;Mmm dd hh:mm:ss HOST TAG[PID]: MSG</c>, read as UTC in the year that puts it nearest
/// to the arrival time). Fields: <c>facility</c>, <c>severity</c>, <c>hostname</c>, <c>app_name</c>,
/// <c>proc_id</c>, <c>msg_id</c>, <c>message</c>, each structured-data parameter as <c>{sd_id}_{name}</c>;
/// <c>_timestamp</c> from the header, else the arrival time. A line without <c>&lt;PRI&gt;</c> is all message.
/// </summary>
public static class SyslogParser
{
    public static void AddRecord(RecordBuilder b, ReadOnlySpan<byte> m, long arrivalMicros, int index)
    {
        var size = m.Length;
        b.BeginRecord();
        while (m.Length > 0 && m[^1] is (byte)'\n' or (byte)'\r' or 0) m = m[..^1];
        if (TryPriority(ref m, out var pri))
        {
            b.AddInt64("facility"u8, pri >> 3);
            b.AddInt64("severity"u8, pri & 7);
            if (m.Length > 2 && m[0] == (byte)'1' && m[1] == (byte)' ') Rfc5424(b, m[2..]);
            else Rfc3164(b, m, arrivalMicros);
        }
        else
        {
            b.AddString("message"u8, m);
        }
        b.EndRecord(index, size);
    }

    private static bool TryPriority(ref ReadOnlySpan<byte> m, out int pri)
    {
        pri = 0;
        if (m.Length < 3 || m[0] != (byte)'<') return false;
        var close = m[..Math.Min(m.Length, 5)].IndexOf((byte)'>');
        if (close < 2 || !Utf8Parser.TryParse(m[1..close], out pri, out var used) || used != close - 1 || pri > 191)
            return false;
        m = m[(close + 1)..];
        return true;
    }

    private static void Rfc5424(RecordBuilder b, ReadOnlySpan<byte> m)
    {
        var timestamp = Token(ref m);
        if (timestamp is not [(byte)'-'] && TimestampParser.TryRfc3339(timestamp, out var micros))
            b.SetTimestamp(micros);
        Header(b, "hostname"u8, Token(ref m));
        Header(b, "app_name"u8, Token(ref m));
        Header(b, "proc_id"u8, Token(ref m));
        Header(b, "msg_id"u8, Token(ref m));
        if (m.Length > 0 && m[0] == (byte)'[') StructuredData(b, ref m);
        else Token(ref m); // "-": no structured data
        if (m.StartsWith(Bom)) m = m[3..];
        if (m.Length > 0) b.AddString("message"u8, m);
    }

    private static void Header(RecordBuilder b, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (value.Length > 0 && value is not [(byte)'-']) b.AddString(key, value);
    }

    // The next space-separated token; the rest after one space.
    private static ReadOnlySpan<byte> Token(ref ReadOnlySpan<byte> m)
    {
        var sp = m.IndexOf((byte)' ');
        var token = sp < 0 ? m : m[..sp];
        m = sp < 0 ? default : m[(sp + 1)..];
        return token;
    }

    // [id name="value" ...][id2 ...] then a space; values escape '"', '\' and ']' with '\'.
    private static void StructuredData(RecordBuilder b, ref ReadOnlySpan<byte> m)
    {
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var value = ArrayPool<byte>.Shared.Rent(m.Length);
        try
        {
            while (m.Length > 0 && m[0] == (byte)'[')
            {
                m = m[1..];
                var idEnd = m.IndexOfAny((byte)' ', (byte)']');
                if (idEnd < 0) return;
                var idLen = RecordKeys.Append(key, 0, m[..idEnd]);
                m = m[idEnd..];
                while (m.Length > 0 && m[0] == (byte)' ')
                {
                    m = m[1..];
                    var eq = m.IndexOf("=\""u8);
                    if (eq < 0) return;
                    var keyLen = idLen < 0 ? -1 : RecordKeys.Append(key, idLen, m[..eq]);
                    m = m[(eq + 2)..];
                    var n = 0;
                    while (m.Length > 0 && m[0] != (byte)'"')
                    {
                        if (m[0] == (byte)'\\' && m.Length > 1 && m[1] is (byte)'"' or (byte)'\\' or (byte)']')
                            m = m[1..];
                        value[n++] = m[0];
                        m = m[1..];
                    }
                    if (m.Length == 0) return;
                    m = m[1..]; // the closing quote
                    if (keyLen < 0) b.Fail(RecordKeys.TooLong);
                    else b.AddString(key[..keyLen], value.AsSpan(0, n));
                }
                if (m.Length == 0 || m[0] != (byte)']') return;
                m = m[1..];
            }
            if (m.Length > 0 && m[0] == (byte)' ') m = m[1..];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(value);
        }
    }

    // The byte order mark RFC 5424 puts before a UTF-8 message.
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    private static void Rfc3164(RecordBuilder b, ReadOnlySpan<byte> m, long arrivalMicros)
    {
        // "Mmm dd hh:mm:ss " (a day below 10 is padded with a space).
        if (m.Length >= 16 && m[3] == (byte)' ' && m[6] == (byte)' ' && m[9] == (byte)':' && m[12] == (byte)':'
            && m[15] == (byte)' ' && Months.IndexOf(m[..3]) is var mi && mi >= 0 && mi % 3 == 0
            && Number(m.Slice(4, 2), out var day) && Number(m.Slice(7, 2), out var hour)
            && Number(m.Slice(10, 2), out var minute) && Number(m.Slice(13, 2), out var second))
        {
            var arrival = DateTimeOffset.FromUnixTimeMilliseconds(arrivalMicros / 1000).UtcDateTime;
            if (Stamp(arrival.Year, mi / 3 + 1, day, hour, minute, second) is { } t)
            {
                // A year-less stamp more than a day ahead belongs to last year (December seen in January).
                if (t > arrival.AddDays(1) && Stamp(arrival.Year - 1, mi / 3 + 1, day, hour, minute, second) is { } p)
                    t = p;
                b.SetTimestamp(new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000);
            }
            m = m[16..];
            Header(b, "hostname"u8, Token(ref m));
        }
        // TAG[PID]: — a tag is at most 32 characters of [A-Za-z0-9_.-/].
        var colon = m[..Math.Min(m.Length, 48)].IndexOf(": "u8);
        if (colon > 0 && m[..colon].IndexOf((byte)' ') < 0)
        {
            var tag = m[..colon];
            var open = tag.IndexOf((byte)'[');
            if (open > 0 && tag[^1] == (byte)']')
            {
                b.AddString("app_name"u8, tag[..open]);
                b.AddString("proc_id"u8, tag[(open + 1)..^1]);
            }
            else
            {
                b.AddString("app_name"u8, tag);
            }
            m = m[(colon + 2)..];
        }
        if (m.Length > 0) b.AddString("message"u8, m);
    }

    private static bool Number(ReadOnlySpan<byte> two, out int value)
    {
        value = 0;
        foreach (var c in two)
        {
            if (c == (byte)' ') continue;
            if (c is < (byte)'0' or > (byte)'9') return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    private static DateTime? Stamp(int year, int month, int day, int hour, int minute, int second) =>
        day >= 1 && day <= DateTime.DaysInMonth(year, month) && hour < 24 && minute < 60 && second < 61
            ? new DateTime(year, month, day, hour, minute, Math.Min(second, 59), DateTimeKind.Utc)
            : null;
}
