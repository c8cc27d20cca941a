namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// A request's own field roles, as VictoriaLogs' <c>_msg_field</c> and <c>_time_field</c>: the field named by
/// <see cref="Message"/> is stored as <see cref="RecordKeys.Message"/> (so full-text search and the UI find a
/// shipper's <c>log</c> or <c>msg</c>), and the field named by <see cref="Time"/> is the record's
/// <c>_timestamp</c>, ahead of any other time field, and not kept as a column of its own. Both are keys as
/// <see cref="RecordKeys"/> makes them (a nested <c>kubernetes.log</c> is <c>kubernetes_log</c>).
/// </summary>
public sealed class FieldMapping
{
    private FieldMapping(byte[]? message, byte[]? time)
    {
        Message = message;
        Time = time;
    }

    public byte[]? Message { get; }

    public byte[]? Time { get; }

    /// <summary>The mapping of the given field names, null when neither is set.</summary>
    /// <returns>Null with <paramref name="error"/> set when a name is longer than a key may be.</returns>
    public static FieldMapping? Create(string? message, string? time, out string? error)
    {
        error = null;
        var m = Key(message, ref error);
        var t = Key(time, ref error);
        return error is null && (m is not null || t is not null) ? new FieldMapping(m, t) : null;
    }

    private static byte[]? Key(string? name, ref string? error)
    {
        if (string.IsNullOrEmpty(name)) return null;
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var len = RecordKeys.Append(key, 0, System.Text.Encoding.UTF8.GetBytes(name));
        if (len < 0)
        {
            error = $"field name '{name[..Math.Min(name.Length, 64)]}...' is longer than {RecordKeys.MaxBytes} bytes";
            return null;
        }
        return key[..len].ToArray();
    }
}
