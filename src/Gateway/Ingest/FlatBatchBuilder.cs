using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest;

public readonly record struct RecordError(int Index, string Error);

/// <summary>
/// Turns JSON records into flat columns (the IngestBatch payload, <see cref="BatchPayload"/>): nested keys joined
/// with '_' up to the flatten level, deeper objects and arrays kept as JSON text, keys lowercased with other
/// characters as '_', <c>_timestamp</c> in µs. A record's values go to a scratch buffer first, so a record that
/// breaks a limit is rejected alone and leaves no trace. One builder serves one request; buffers are pooled.
/// </summary>
public sealed class FlatBatchBuilder : IDisposable
{
    private const int MaxKeyBytes = 256;

    private readonly IngestLimits _limits;
    private readonly FieldBudget? _budget;
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
    private int _recordNew; // fields this record would add to each count
    private int _recordNewToStream;
    private int _recordInvalidUtf8;
    private Chunk _current = Chunk.Empty;

    private record struct Chunk(int Count, long MinTs, long MaxTs, long OriginalBytes)
    {
        public static readonly Chunk Empty = new(0, long.MaxValue, long.MinValue, 0);
    }

    /// <param name="budget">The stream's remaining field budget, when it is near <c>max_stream_fields</c>.</param>
    public FlatBatchBuilder(IngestLimits limits, long arrivalMicros, FieldBudget? budget = null)
    {
        _limits = limits;
        _budget = budget;
        _arrivalMicros = arrivalMicros;
        _range = new TimestampRange(arrivalMicros, limits.MaxPastDays, limits.MaxFutureDays);
        _fieldLookup = _fieldIndex.GetAlternateLookup<ReadOnlySpan<char>>();
        _scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        Field("_timestamp"u8);
    }

    public List<RecordError> Errors { get; } = [];

    public int Accepted { get; private set; }

    /// <summary>Rejected records past the first <see cref="MaxKeptErrors"/> are counted, not listed.</summary>
    public int Rejected => Errors.Count + _unlistedErrors;

    /// <summary>Text values of accepted records whose invalid UTF-8 was replaced by U+FFFD.</summary>
    public int InvalidUtf8Values { get; private set; }

    public const int MaxKeptErrors = 100;
    private int _unlistedErrors;

    /// <summary>The reader is on the record's first token; on return it is on the record's last token.</summary>
    /// <param name="input">The bytes the reader reads (raw text of nested values is taken from it).</param>
    public void Add(ref Utf8JsonReader reader, ReadOnlySpan<byte> input, int index)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            SkipValue(ref reader, out _);
            Reject(index, "record is not a JSON object");
            return;
        }
        _stamp++;
        _seenStamp[0] = _stamp; // a field that normalizes to _timestamp must not shadow the real one
        _scratchLen = 0;
        _error = null;
        _tsPriority = 0;
        _recordNew = 0;
        _recordNewToStream = 0;
        _recordInvalidUtf8 = 0;
        _recordCells.Clear();
        var baseDepth = reader.CurrentDepth;
        Span<byte> key = stackalloc byte[MaxKeyBytes];
        var fields = 0;
        FlattenObject(ref reader, input, key, 0, 1, baseDepth, ref fields);
        var size = (int)reader.BytesConsumed - start;
        if (_error is null && size > _limits.MaxRecordBytes)
            _error = $"record is {size} bytes, over the {_limits.MaxRecordBytes}-byte limit";
        var ts = _tsPriority > 0 ? _ts : _arrivalMicros;
        if (_error is null && _tsPriority > 0) _error = _range.Check(ts);
        if (_error is not null)
        {
            Reject(index, _error);
            return;
        }
        Commit(ts, size);
    }

    /// <summary>A record that is not even JSON (NDJSON lines are parsed one by one).</summary>
    public void Reject(int index, string error)
    {
        if (Errors.Count < MaxKeptErrors) Errors.Add(new RecordError(index, error));
        else _unlistedErrors++;
    }

    private void FlattenObject(ref Utf8JsonReader r, ReadOnlySpan<byte> input, scoped Span<byte> key, int prefixLen, int level, int baseDepth, ref int fields)
    {
        while (r.Read())
        {
            if (r.TokenType == JsonTokenType.EndObject) return;
            // Property name
            var keyLen = AppendKey(ref r, key, prefixLen);
            var isTimestamp = level == 1 && TimestampPriority(ref r) is var p && p > 0 ? p : 0;
            r.Read();
            if (_error is not null || keyLen < 0)
            {
                _error ??= $"field name longer than {MaxKeyBytes} bytes";
                SkipValue(ref r, out _);
                continue;
            }
            if (isTimestamp > 0)
            {
                TakeTimestamp(ref r, isTimestamp);
                continue;
            }
            switch (r.TokenType)
            {
                case JsonTokenType.StartObject when level < _limits.FlattenLevel:
                    if (r.CurrentDepth - baseDepth >= _limits.MaxNestingDepth) goto default;
                    FlattenObject(ref r, input, key, keyLen, level + 1, baseDepth, ref fields);
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                {
                    var from = (int)r.TokenStartIndex;
                    SkipValue(ref r, out var depth);
                    if (depth - baseDepth > _limits.MaxNestingDepth)
                    {
                        _error = $"nesting deeper than {_limits.MaxNestingDepth} levels";
                        break;
                    }
                    if (WriteKey(key[..keyLen], FieldKind.Utf8, ref fields))
                        PutText(input[from..(int)r.BytesConsumed]);
                    break;
                }
                case JsonTokenType.String:
                    if (WriteKey(key[..keyLen], FieldKind.Utf8, ref fields))
                    {
                        if (r.ValueIsEscaped) PutUnescaped(ref r);
                        else PutText(r.ValueSpan);
                    }
                    break;
                case JsonTokenType.Number:
                    var kind = r.TryGetInt64(out _) ? FieldKind.Int64 : FieldKind.Float64;
                    if (WriteKey(key[..keyLen], kind, ref fields)) Put(r.ValueSpan);
                    break;
                case JsonTokenType.True:
                    if (WriteKey(key[..keyLen], FieldKind.Bool, ref fields)) Put("true"u8);
                    break;
                case JsonTokenType.False:
                    if (WriteKey(key[..keyLen], FieldKind.Bool, ref fields)) Put("false"u8);
                    break;
                case JsonTokenType.Null:
                    break;
                default:
                    SkipValue(ref r, out _);
                    _error = $"nesting deeper than {_limits.MaxNestingDepth} levels";
                    break;
            }
        }
    }

    /// <summary>Appends the normalized key (after '_' when nested); returns its full length, or -1 when too long.</summary>
    private static int AppendKey(ref Utf8JsonReader r, scoped Span<byte> key, int prefixLen)
    {
        var pos = prefixLen;
        if (pos > 0)
        {
            if (pos >= key.Length) return -1;
            key[pos++] = (byte)'_';
        }
        ReadOnlySpan<byte> raw = r.ValueSpan;
        if (r.ValueIsEscaped) raw = Utf8Text.UnescapeLenient(raw); // rare: keys with escapes
        foreach (var b in raw)
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
        if (pos == prefixLen + (prefixLen > 0 ? 1 : 0))
        {
            if (pos >= key.Length) return -1;
            key[pos++] = (byte)'_'; // an empty key still names a column
        }
        return pos;
    }

    private static int TimestampPriority(ref Utf8JsonReader r)
    {
        if (r.ValueIsEscaped) return 0;
        var k = r.ValueSpan;
        if (k.SequenceEqual("_timestamp"u8)) return 3;
        if (k.SequenceEqual("@timestamp"u8)) return 2;
        if (k.SequenceEqual("timestamp"u8)) return 1;
        return 0;
    }

    private void TakeTimestamp(ref Utf8JsonReader r, int priority)
    {
        long micros;
        bool ok;
        switch (r.TokenType)
        {
            case JsonTokenType.Number:
                ok = TimestampParser.TryFromNumber(r.ValueSpan, out micros);
                break;
            case JsonTokenType.String:
                ok = r.ValueIsEscaped
                    ? TimestampParser.TryFromUtf8(Utf8Text.UnescapeLenient(r.ValueSpan), out micros)
                    : TimestampParser.TryFromUtf8(r.ValueSpan, out micros);
                break;
            default:
                SkipValue(ref r, out _);
                ok = false;
                micros = 0;
                break;
        }
        if (!ok)
        {
            _error = "timestamp is neither a number nor an RFC 3339 string";
            return;
        }
        if (priority > _tsPriority)
        {
            _tsPriority = priority;
            _ts = micros;
        }
    }

    /// <summary>Starts the key's cell (its value follows in the scratch buffer); false when the key repeats in this
    /// record (first wins) or the record has too many fields.</summary>
    private bool WriteKey(ReadOnlySpan<byte> key, FieldKind kind, ref int fields)
    {
        var idx = Field(key, fields);
        if (_seenStamp[idx] == _stamp) return false;
        _seenStamp[idx] = _stamp;
        if (++fields >= _limits.MaxColumns) // _timestamp is a field too
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
        _current = new Chunk(_current.Count + 1, Math.Min(_current.MinTs, ts), Math.Max(_current.MaxTs, ts), _current.OriginalBytes + originalBytes);
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

    private static void SkipValue(ref Utf8JsonReader r, out int maxDepth)
    {
        maxDepth = r.CurrentDepth;
        if (r.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
        var depth = r.CurrentDepth;
        while (r.Read())
        {
            if (r.CurrentDepth > maxDepth) maxDepth = r.CurrentDepth;
            if (r.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && r.CurrentDepth == depth) return;
        }
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

    private void PutUnescaped(ref Utf8JsonReader r)
    {
        if (_scratchLen + r.ValueSpan.Length > _scratch.Length) GrowScratch(r.ValueSpan.Length);
        try
        {
            // Unescaping only shortens; CopyString validates the UTF-8 it writes.
            _scratchLen += r.CopyString(_scratch.AsSpan(_scratchLen));
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape or invalid raw bytes: System.Text.Json refuses what we repair.
            _recordInvalidUtf8++;
            Put(Utf8Text.Repair(Utf8Text.UnescapeLenient(r.ValueSpan)));
        }
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

    public void Dispose()
    {
        _writer.Dispose();
        ArrayPool<byte>.Shared.Return(_scratch);
    }
}
