namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// Field names of every protocol: nested or prefixed keys are joined with '_', ASCII letters lowercased, digits and
/// '_' kept, every other character (one per UTF-8 character) becomes '_', and an empty segment is '_'. A key is at
/// most <see cref="MaxBytes"/> bytes. Drivers build keys here and hand them to <see cref="RecordBuilder"/>.
/// </summary>
public static class RecordKeys
{
    public const int MaxBytes = 256;

    /// <summary>The field a record's message text is stored in, by every protocol (full-text search reads it).
    /// </summary>
    public static ReadOnlySpan<byte> Message => "message"u8;

    /// <summary>Appends the normalized <paramref name="segment"/> to the key in <paramref name="key"/> of
    /// <paramref name="prefixLen"/> bytes (after a '_' when the prefix is not empty).</summary>
    /// <returns>The key's new length, or -1 when it would be longer than the buffer.</returns>
    public static int Append(Span<byte> key, int prefixLen, ReadOnlySpan<byte> segment)
    {
        var pos = prefixLen;
        if (pos > 0)
        {
            if (pos >= key.Length) return -1;
            key[pos++] = (byte)'_';
        }
        var first = pos;
        foreach (var b in segment)
        {
            if (b is >= 0x80 and < 0xC0) continue; // UTF-8 continuation: one '_' per character
            if (pos >= key.Length) return -1;
            key[pos++] = b switch
            {
                >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' => b,
                >= (byte)'A' and <= (byte)'Z' => (byte)(b | 0x20),
                _ => (byte)'_',
            };
        }
        if (pos == first)
        {
            if (pos >= key.Length) return -1;
            key[pos++] = (byte)'_'; // an empty key still names a column
        }
        return pos;
    }

    /// <summary>The error a record gets for a key past <see cref="MaxBytes"/>.</summary>
    public const string TooLong = "field name longer than 256 bytes";
}
