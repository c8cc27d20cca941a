namespace MoleSignal.Grains.Index;

/// <summary>A reusable TextReader over text slices, separated by newlines, so a row's text is indexed without a string.</summary>
internal sealed class SlicesReader : TextReader
{
    private readonly List<ReadOnlyMemory<char>> _slices = [];
    private int _slice;
    private int _pos;

    public void Reset(List<ReadOnlyMemory<char>> slices)
    {
        _slices.Clear();
        _slices.AddRange(slices);
        _slice = 0;
        _pos = 0;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        var written = 0;
        while (written < buffer.Length && _slice < _slices.Count)
        {
            var current = _slices[_slice].Span;
            if (_pos == current.Length)
            {
                buffer[written++] = '\n';
                _slice++;
                _pos = 0;
                continue;
            }
            var n = Math.Min(buffer.Length - written, current.Length - _pos);
            current.Slice(_pos, n).CopyTo(buffer[written..]);
            written += n;
            _pos += n;
        }
        return written;
    }

    public override int Read() => throw new NotSupportedException("read in blocks");

    // Lucene closes the reader after each document; it is reused, so closing is a no-op.
    protected override void Dispose(bool disposing)
    {
    }
}
