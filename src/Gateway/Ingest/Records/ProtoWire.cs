namespace MoleSignal.Gateway.Ingest;

/// <summary>A body that is not the protobuf message its protocol sends.</summary>
public sealed class ProtoWireException(string message) : Exception(message);

/// <summary>
/// A reader over protobuf's wire format, for drivers that hand <see cref="RecordBuilder"/> a message's strings
/// as the UTF-8 bytes they are in the body. Google.Protobuf builds an object per message and a UTF-16 string
/// per string field, which the builder would only encode back to UTF-8. Positions are the body's (a nested
/// reader starts at its field's offset), so a driver can note where a part lies and read it again later.
/// </summary>
public ref struct ProtoWire
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _base;
    private int _pos;

    /// <param name="offset">Where <paramref name="data"/> starts in the body.</param>
    public ProtoWire(ReadOnlySpan<byte> data, int offset = 0)
    {
        _data = data;
        _base = offset;
    }

    /// <summary>The body offset of the next byte to read.</summary>
    public readonly int Position => _base + _pos;

    /// <summary>The next field's number and wire type; false at the end of the message.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (_pos >= _data.Length)
        {
            field = wireType = 0;
            return false;
        }
        var tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0 || tag >> 3 > int.MaxValue) throw new ProtoWireException("a field number out of range");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new ProtoWireException("the message ends inside a varint");
            var b = _data[_pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new ProtoWireException("a varint longer than 10 bytes");
    }

    public ulong ReadFixed64()
    {
        if (_data.Length - _pos < 8) throw new ProtoWireException("the message ends inside a field");
        var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data[_pos..]);
        _pos += 8;
        return value;
    }

    /// <summary>A string field's bytes; invalid UTF-8 makes the message invalid, as protobuf's parsers hold.
    /// </summary>
    public ReadOnlySpan<byte> ReadString()
    {
        var bytes = ReadBytes();
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new ProtoWireException("a string field is not UTF-8");
        return bytes;
    }

    /// <summary>A message of two string fields, 1 and 2 (a label: name and value); absent ones are empty.
    /// </summary>
    /// <param name="check">Check both are UTF-8 (the first read of a body; later reads trust it).</param>
    public void ReadPair(out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second, bool check = false)
    {
        first = second = default;
        while (Next(out var field, out var type))
        {
            if (type != LengthDelimited) Skip(type);
            else if (field == 1) first = check ? ReadString() : ReadBytes();
            else if (field == 2) second = check ? ReadString() : ReadBytes();
            else Skip(type);
        }
    }

    /// <summary>A length-delimited field's bytes (a string, bytes or a nested message).</summary>
    public ReadOnlySpan<byte> ReadBytes() => ReadBytes(out _);

    /// <param name="offset">Where the bytes start in the body.</param>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _pos)) throw new ProtoWireException("the message ends inside a field");
        offset = Position;
        var bytes = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return bytes;
    }

    /// <summary>A nested message, read by a reader of its own.</summary>
    public ProtoWire ReadMessage()
    {
        var bytes = ReadBytes(out var offset);
        return new ProtoWire(bytes, offset);
    }

    /// <summary>The last occurrence of the message field <paramref name="field"/> (as protobuf reads a
    /// non-repeated one); an absent one reads as empty. Reads a copy: this reader does not move.</summary>
    public readonly ProtoWire LastMessage(int field)
    {
        var message = this;
        ProtoWire last = default;
        while (message.Next(out var f, out var type))
        {
            if (f == field && type == LengthDelimited) last = message.ReadMessage();
            else message.Skip(type);
        }
        return last;
    }

    /// <summary>Passes over a field of the given wire type (an unknown field, or one of an unexpected type).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Advance(8);
                break;
            case LengthDelimited:
                ReadBytes();
                break;
            case Fixed32:
                Advance(4);
                break;
            default:
                throw new ProtoWireException($"wire type {wireType} (groups are not used by these messages)");
        }
    }

    private void Advance(int n)
    {
        if (_data.Length - _pos < n) throw new ProtoWireException("the message ends inside a field");
        _pos += n;
    }
}
