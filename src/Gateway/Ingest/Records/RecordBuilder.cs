using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest;

public readonly record struct RecordError(int Index, string Error);

/// <summary>
/// The one place every ingest protocol's records become flat columns (the IngestBatch payload,
/// <see cref="BatchPayload"/>): a driver begins a record, adds typed fields by key (made by
/// <see cref="RecordKeys"/>), sets the timestamp and ends it; the builder applies the limits (fields per record and
/// request, record size, the stream's field budget, the timestamp window), widens a field's type across records and
/// splits the accepted records into batches. A record's values go to a scratch buffer first, so a record that breaks
/// a limit is rejected alone and leaves no trace. One builder serves one request and stream; buffers are pooled.
/// </summary>
public sealed class RecordBuilder : IDisposable
{
    private readonly IngestLimits _limits;
    private readonly FieldBudget? _budget;
    private readonly FieldMapping? _mapping;
    private readonly TimestampRange _range;
    private readonly long _arrivalMicros;
    private readonly Dictionary<string, int> _fieldIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _fieldLookup;
    private readonly List<string> _names = [];
    private readonly List<byte[]> _nameBytes = [];
    private readonly List<int> _predicted = []; // field index seen at each position of the previous record
    private readonly List<FieldKind> _kinds = []; // 0 = registered by a rejected record only
    private readonly List<int> _seenStamp = [];
    private readonly List<(int Field, FieldKind Kind, int Start)> _recordCells = []; // values in _scratch, in order
    private readonly List<(byte[] Payload, Chunk Meta)> _chunks = [];
    private readonly BatchPayload.Writer _writer = new();
    private byte[] _scratch;
    private int _scratchLen;
    private int _stamp;
    private string? _error;
    private long _ts;
    private int _tsPriority;
    private int _committedFields; // distinct fields of accepted records (max_request_fields)
    private int _committedNew; // of those, fields the stream does not have yet (the field budget)
    private int _fields; // of the record being built
    private int _recordNew; // fields this record would add to each count
    private int _recordNewToStream;
    private int _recordInvalidUtf8;
    private Chunk _current = Chunk.Empty;
    private readonly Dictionary<int, string>? _rejected;

    private record struct Chunk(int Count, long MinTs, long MaxTs, long OriginalBytes)
    {
        public static readonly Chunk Empty = new(0, long.MaxValue, long.MinValue, 0);
    }

    /// <param name="budget">The stream's remaining field budget, when it is near <c>max_stream_fields</c>.</param>
    /// <param name="trackRejected">Keep every rejected index (<see cref="RejectedReasons"/>), not just the first
    /// <see cref="MaxKeptErrors"/> errors.</param>
    /// <param name="mapping">The request's message and time fields, if it names them.</param>
    public RecordBuilder(IngestLimits limits, long arrivalMicros, FieldBudget? budget = null,
        bool trackRejected = false, FieldMapping? mapping = null)
    {
        _mapping = mapping;
        _rejected = trackRejected ? [] : null;
        _limits = limits;
        _budget = budget;
        _arrivalMicros = arrivalMicros;
        _range = new TimestampRange(arrivalMicros, limits.AllowedPastHours, limits.AllowedFutureHours);
        _fieldLookup = _fieldIndex.GetAlternateLookup<ReadOnlySpan<char>>();
        _scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        Field("_timestamp"u8);
    }

    public IngestLimits Limits => _limits;

    public List<RecordError> Errors { get; } = [];

    public int Accepted { get; private set; }

    /// <summary>Rejected records past the first <see cref="MaxKeptErrors"/> are counted, not listed.</summary>
    public int Rejected => Errors.Count + _unlistedErrors;

    /// <summary>Text values of accepted records whose invalid UTF-8 was replaced by U+FFFD.</summary>
    public int InvalidUtf8Values { get; private set; }

    public const int MaxKeptErrors = 100;
    private int _unlistedErrors;

    /// <summary>Starts a record: its fields follow, then <see cref="EndRecord"/>.</summary>
    public void BeginRecord()
    {
        _stamp++;
        _seenStamp[0] = _stamp; // a field that normalizes to _timestamp must not shadow the real one
        _scratchLen = 0;
        _error = null;
        _tsPriority = 0;
        _fields = 0;
        _recordNew = 0;
        _recordNewToStream = 0;
        _recordInvalidUtf8 = 0;
        _recordCells.Clear();
    }

    /// <summary>Whether the record being built is already rejected (its remaining fields need not be read).</summary>
    public bool Failed => _error is not null;

    /// <summary>Rejects the record being built (the first reason wins); it is counted at
    /// <see cref="EndRecord"/>.</summary>
    public void Fail(string error) => _error ??= error;

    /// <summary>A text field; invalid UTF-8 is repaired (U+FFFD) and counted.</summary>
    /// <param name="key">A key made by <see cref="RecordKeys"/>.</param>
    public void AddString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> utf8)
    {
        if (IsMappedTime(key))
            MappedTime(TimestampParser.TryFromUtf8(utf8, out var us), us);
        else if (BeginField(key, FieldKind.Utf8)) PutText(utf8);
    }

    /// <summary>A nested value kept whole, as its JSON text (a text field).</summary>
    public void AddJson(ReadOnlySpan<byte> key, ReadOnlySpan<byte> json) => AddString(key, json);

    public void AddInt64(ReadOnlySpan<byte> key, long value)
    {
        if (IsMappedTime(key))
        {
            MappedTime(true, TimestampParser.Scale(value));
            return;
        }
        if (!BeginField(key, FieldKind.Int64)) return;
        Span<byte> text = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, text, out var n);
        Put(text[..n]);
    }

    /// <summary>A float field; NaN and infinities have no JSON or SQL literal and are left out.</summary>
    public void AddFloat64(ReadOnlySpan<byte> key, double value)
    {
        Span<byte> text = stackalloc byte[32];
        if (IsMappedTime(key))
        {
            value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture);
            MappedTime(TimestampParser.TryFromNumber(text[..written], out var us), us);
            return;
        }
        if (!double.IsFinite(value) || !BeginField(key, FieldKind.Float64)) return;
        value.TryFormat(text, out var n, "R", CultureInfo.InvariantCulture);
        Put(text[..n]);
    }

    public void AddBool(ReadOnlySpan<byte> key, bool value)
    {
        if (BeginField(key, FieldKind.Bool)) Put(value ? "true"u8 : "false"u8);
    }

    /// <summary>A number given as its JSON text (the JSON reader's path: no parse and format again).</summary>
    public void AddNumberText(ReadOnlySpan<byte> key, FieldKind kind, ReadOnlySpan<byte> jsonNumber)
    {
        if (IsMappedTime(key))
            MappedTime(TimestampParser.TryFromNumber(jsonNumber, out var us), us);
        else if (BeginField(key, kind)) Put(jsonNumber);
    }

    /// <summary>
    /// A text field whose value the caller writes into <paramref name="destination"/> (at most
    /// <paramref name="maxBytes"/>, valid UTF-8) and then commits with <see cref="CommitText"/>; false when the
    /// field is not taken (a repeated key, a limit). Unescaping JSON strings in place needs no copy.
    /// </summary>
    public bool BeginText(ReadOnlySpan<byte> key, int maxBytes, out Span<byte> destination)
    {
        destination = default;
        if (!BeginField(key, FieldKind.Utf8)) return false;
        if (_scratchLen + maxBytes > _scratch.Length) GrowScratch(maxBytes);
        destination = _scratch.AsSpan(_scratchLen, maxBytes);
        return true;
    }

    public void CommitText(int written) => _scratchLen += written;

    /// <summary>Instead of <see cref="CommitText"/>: the value was not valid UTF-8; it is stored repaired.</summary>
    public void CommitRepairedText(ReadOnlySpan<byte> invalidUtf8)
    {
        _recordInvalidUtf8++;
        Put(Utf8Text.Repair(invalidUtf8));
    }

    /// <summary>Whether the key is the request's time field (its value is read as the record's time).</summary>
    public bool IsMappedTime(ReadOnlySpan<byte> key) => _mapping?.Time is { } t && key.SequenceEqual(t);

    // The request's time field outranks every field a driver ranks.
    private const int MappedTimePriority = int.MaxValue;

    private void MappedTime(bool parsed, long micros)
    {
        if (parsed) SetTimestamp(micros, MappedTimePriority);
        else Fail("the _time_field value is neither a number nor an RFC 3339 string");
    }

    /// <summary>The record's <c>_timestamp</c> in µs. Of several candidates the highest priority wins (a driver
    /// ranks its fields, as <c>_timestamp</c> over <c>@timestamp</c> over <c>timestamp</c>); none: arrival time.
    /// </summary>
    public void SetTimestamp(long micros, int priority = 1)
    {
        if (priority <= _tsPriority) return;
        _tsPriority = priority;
        _ts = micros;
    }

    /// <summary>Ends the record: kept, or rejected with its reason (a limit, a timestamp out of the window, or
    /// what <see cref="Fail"/> said).</summary>
    /// <param name="index">The record's position in the request (errors name it).</param>
    /// <param name="sizeBytes">The record's size as received (the record size limit and the original bytes).</param>
    public void EndRecord(int index, int sizeBytes)
    {
        if (_error is null && sizeBytes > _limits.MaxRecordBytes)
            _error = $"record is {sizeBytes} bytes, over the {_limits.MaxRecordBytes}-byte limit";
        var ts = _tsPriority > 0 ? _ts : _arrivalMicros;
        if (_error is null && _tsPriority > 0) _error = _range.Check(ts);
        if (_error is not null)
        {
            Reject(index, _error);
            return;
        }
        Commit(ts, sizeBytes);
    }

    /// <summary>A record rejected as a whole (one that could not even be read).</summary>
    public void Reject(int index, string error)
    {
        if (Errors.Count < MaxKeptErrors) Errors.Add(new RecordError(index, error));
        else _unlistedErrors++;
        _rejected?.TryAdd(index, error);
    }

    /// <summary>Every rejected record's index and reason (only when built with <c>trackRejected</c>, for protocols
    /// that answer per record).</summary>
    public IReadOnlyDictionary<int, string>? RejectedReasons => _rejected;

    /// <summary>Starts the key's cell (its value follows in the scratch buffer); false when the key repeats in this
    /// record (first wins) or the record has too many fields.</summary>
    private bool BeginField(ReadOnlySpan<byte> key, FieldKind kind)
    {
        if (_error is not null) return false;
        if (_mapping?.Message is { } m && key.SequenceEqual(m)) key = RecordKeys.Message;
        var idx = Field(key, _fields);
        if (_seenStamp[idx] == _stamp) return false;
        _seenStamp[idx] = _stamp;
        if (++_fields >= _limits.MaxColumns) // _timestamp is a field too
        {
            _error ??= $"record has more than {_limits.MaxColumns} fields";
            return false;
        }
        if (_kinds[idx] == 0 && !NewFieldFits(idx)) return false;
        _recordCells.Add((idx, kind, _scratchLen));
        return true;
    }

    /// <summary>
    /// A field no accepted record of this request has yet: within <c>max_request_fields</c> distinct names per
    /// request and, under a <see cref="FieldBudget"/>, within the fields the stream may still gain.
    /// </summary>
    private bool NewFieldFits(int idx)
    {
        if (_committedFields + ++_recordNew > _limits.MaxRequestFields)
        {
            _error ??= $"the request has more than {_limits.MaxRequestFields} distinct field names " +
                       "([ingester].max_request_fields)";
            return false;
        }
        if (_budget is null || _budget.Known.Contains(_names[idx])) return true;
        if (_committedNew + ++_recordNewToStream > _budget.AllowedNew)
        {
            _error ??= $"field '{_names[idx]}' would be new and the stream has reached {_budget.MaxStreamFields} " +
                       "fields ([ingester].max_stream_fields)";
            return false;
        }
        return true;
    }

    /// <summary>Field index of a key. Records of a stream mostly repeat the previous record's key order, so the
    /// field at the same position is tried first (a byte compare) before the dictionary.</summary>
    private int Field(ReadOnlySpan<byte> key, int position)
    {
        if (position < _predicted.Count)
        {
            var guess = _predicted[position];
            if (_nameBytes[guess].AsSpan().SequenceEqual(key)) return guess;
        }
        var idx = Field(key);
        if (position < _predicted.Count) _predicted[position] = idx;
        else if (position == _predicted.Count) _predicted.Add(idx);
        return idx;
    }

    private int Field(ReadOnlySpan<byte> key)
    {
        Span<char> chars = stackalloc char[key.Length];
        for (var i = 0; i < key.Length; i++) chars[i] = (char)key[i];
        if (_fieldLookup.TryGetValue(chars, out var idx)) return idx;
        var name = new string(chars);
        idx = _names.Count;
        _fieldIndex[name] = idx;
        _names.Add(name);
        _nameBytes.Add(key.ToArray());
        _kinds.Add(0);
        _seenStamp.Add(0);
        return idx;
    }

    private void Commit(long ts, int originalBytes)
    {
        foreach (var (field, kind, _) in _recordCells)
            _kinds[field] = _kinds[field] == 0 ? kind : FieldKinds.Widen(_kinds[field], kind);
        _kinds[0] = FieldKind.Int64;
        _committedFields += _recordNew;
        _committedNew += _recordNewToStream;
        InvalidUtf8Values += _recordInvalidUtf8;

        if (_writer.Bytes >= _limits.MaxBatchBytes) Seal();
        for (var i = 0; i < _recordCells.Count; i++)
        {
            var (field, _, start) = _recordCells[i];
            var end = i + 1 < _recordCells.Count ? _recordCells[i + 1].Start : _scratchLen;
            _writer.Add(field, _nameBytes[field], _scratch.AsSpan(start, end - start));
        }
        _writer.EndRow(ts);
        _current = new Chunk(_current.Count + 1, Math.Min(_current.MinTs, ts), Math.Max(_current.MaxTs, ts),
            _current.OriginalBytes + originalBytes);
        Accepted++;
    }

    private void Seal()
    {
        if (_current.Count == 0) return;
        _chunks.Add((_writer.ToPayload(), _current));
        _current = Chunk.Empty;
    }

    /// <summary>The accepted records, split into batches of about <see cref="IngestLimits.MaxBatchBytes"/>.</summary>
    public List<IngestBatch> Build()
    {
        Seal();
        var names = new List<string>();
        var kinds = new List<FieldKind>();
        for (var i = 0; i < _names.Count; i++)
        {
            if (_kinds[i] == 0) continue;
            names.Add(_names[i]);
            kinds.Add(_kinds[i]);
        }
        var nameArr = names.ToArray();
        var kindArr = kinds.ToArray();
        return _chunks.Select((c, i) => new IngestBatch
        {
            ContinuesRequest = i > 0,
            Payload = c.Payload,
            Count = c.Meta.Count,
            FieldNames = nameArr,
            FieldKinds = kindArr,
            MinTimestamp = c.Meta.MinTs,
            MaxTimestamp = c.Meta.MaxTs,
            OriginalBytes = c.Meta.OriginalBytes,
        }).ToList();
    }

    /// <summary>A text value (a string's bytes, or the JSON text of a value kept whole), repaired if not
    /// UTF-8.</summary>
    private void PutText(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            Put(bytes);
            return;
        }
        _recordInvalidUtf8++;
        Put(Utf8Text.Repair(bytes));
    }

    private void Put(ReadOnlySpan<byte> bytes)
    {
        if (_scratchLen + bytes.Length > _scratch.Length) GrowScratch(bytes.Length);
        bytes.CopyTo(_scratch.AsSpan(_scratchLen));
        _scratchLen += bytes.Length;
    }

    private void GrowScratch(int extra)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_scratch.Length * 2, _scratchLen + extra));
        _scratch.AsSpan(0, _scratchLen).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_scratch);
        _scratch = bigger;
    }

    /// <summary>Forgets every record so far, accepted or rejected: the builder is as new (the names it met stay
    /// known, unused until a record has them again).</summary>
    public void Reset()
    {
        _writer.Clear();
        _chunks.Clear();
        _current = Chunk.Empty;
        CollectionsMarshal.AsSpan(_kinds).Clear();
        _committedFields = _committedNew = 0;
        Accepted = 0;
        InvalidUtf8Values = 0;
        Errors.Clear();
        _unlistedErrors = 0;
        _rejected?.Clear();
        BeginRecord();
    }

    public void Dispose()
    {
        _writer.Dispose();
        ArrayPool<byte>.Shared.Return(_scratch);
    }
}
