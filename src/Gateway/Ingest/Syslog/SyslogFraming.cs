using System.Buffers.Text;

namespace MoleSignal.Gateway.Ingest.Syslog;

/// <summary>
/// Syslog over a stream (RFC 6587): a frame that starts with a digit is octet-counted (<c>LEN SP MSG</c>), any
/// other runs to the next LF. Both may be mixed on one connection.
/// </summary>
public static class SyslogFraming
{
    public enum Result
    {
        /// <summary>A whole frame was read.</summary>
        Frame,

        /// <summary>More bytes are needed.</summary>
        Incomplete,

        /// <summary>The frame is larger than the limit or its length is not a number: the connection is dropped,
        /// as its framing cannot be trusted again.</summary>
        Bad,
    }

    /// <param name="frame">Start and length of the message within <paramref name="data"/>.</param>
    /// <param name="consumed">Bytes of <paramref name="data"/> the frame takes, framing included.</param>
    public static Result Next(ReadOnlySpan<byte> data, int maxMessageBytes, out Range frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (data.Length == 0) return Result.Incomplete;
        if (data[0] is >= (byte)'1' and <= (byte)'9')
        {
            var space = data[..Math.Min(data.Length, 11)].IndexOf((byte)' ');
            if (space < 0) return data.Length >= 11 ? Result.Bad : Result.Incomplete;
            if (!Utf8Parser.TryParse(data[..space], out int length, out var used) || used != space
                || length > maxMessageBytes)
                return Result.Bad;
            if (data.Length < space + 1 + length) return Result.Incomplete;
            frame = new Range(space + 1, space + 1 + length);
            consumed = space + 1 + length;
            return Result.Frame;
        }
        var lf = data.IndexOf((byte)'\n');
        if (lf < 0) return data.Length > maxMessageBytes ? Result.Bad : Result.Incomplete;
        if (lf > maxMessageBytes) return Result.Bad;
        frame = new Range(0, lf);
        consumed = lf + 1;
        return Result.Frame;
    }
}
