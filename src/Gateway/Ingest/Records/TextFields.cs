using System.Buffers;
using System.Text;

namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// Field keys and text values a protocol holds as .NET strings (decoded protobuf, parsed labels), to the UTF-8 the
/// <see cref="RecordBuilder"/> takes, through one pooled buffer per request.
/// </summary>
public sealed class TextFields : IDisposable
{
    private byte[] _text = ArrayPool<byte>.Shared.Rent(4096);

    /// <summary>A key: <paramref name="name"/> after the <paramref name="prefixLen"/> bytes of key already
    /// made.</summary>
    /// <returns>The key's length, or -1 when too long.</returns>
    public static int Key(Span<byte> key, int prefixLen, string name)
    {
        Span<byte> utf8 = stackalloc byte[RecordKeys.MaxBytes * 3];
        if (Encoding.UTF8.GetByteCount(name) > utf8.Length) return -1;
        var n = Encoding.UTF8.GetBytes(name, utf8);
        return RecordKeys.Append(key, prefixLen, utf8[..n]);
    }

    /// <summary>The key of the field <paramref name="name"/>; null when too long.</summary>
    public static byte[]? Key(string name)
    {
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var len = Key(key, 0, name);
        return len < 0 ? null : key[..len].ToArray();
    }

    public void AddString(RecordBuilder b, ReadOnlySpan<byte> key, string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max > _text.Length)
        {
            ArrayPool<byte>.Shared.Return(_text);
            _text = ArrayPool<byte>.Shared.Rent(max);
        }
        var n = Encoding.UTF8.GetBytes(value, _text);
        b.AddString(key, _text.AsSpan(0, n));
    }

    /// <summary>The field <paramref name="name"/> (normalized) with a text value; a name too long fails the
    /// record.</summary>
    public void AddNamed(RecordBuilder b, string name, string value)
    {
        Span<byte> key = stackalloc byte[RecordKeys.MaxBytes];
        var len = Key(key, 0, name);
        if (len < 0) b.Fail(RecordKeys.TooLong);
        else AddString(b, key[..len], value);
    }

    public void Dispose()
    {
        if (_text.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_text);
        _text = [];
    }
}
