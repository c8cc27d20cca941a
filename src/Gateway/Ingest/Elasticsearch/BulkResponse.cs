using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>
/// The answer of <c>_bulk</c> in Elasticsearch's shape: <c>took</c>, <c>errors</c> and one entry per item, in order,
/// keyed by its action, with its <c>status</c> (201 written, 4xx refused, 503 retry later) and, when not written,
/// <c>error.type</c> / <c>error.reason</c>. Shippers retry the items whose status says so, item by item.
/// </summary>
/// <remarks>
/// A body of tens of thousands of documents has as many entries, nearly all alike: a written entry is three copies
/// (its action and index, cached per stream; its id; a constant tail) into one pooled buffer, and the buffer goes
/// to the response as it is. Strings that come from the request are JSON-escaped.
/// </remarks>
public sealed class BulkResponse : IResult, IDisposable
{
    private static readonly byte[] WrittenTail = Encoding.ASCII.GetBytes(
        ",\"status\":201,\"_version\":1,\"result\":\"created\"," +
        "\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1}}");

    private static readonly byte[] End = "]}"u8.ToArray();

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length;
    private bool _errors;
    private long _tookMs;
    // The head of an entry (`{"create":{"_index":"…","_id":"`) for the last action and index seen: a body names
    // one index or a few.
    private (BulkAction Action, string? Index, byte[] Head) _head;
    // Ids of documents without one: a random prefix per answer and the item's number, as unique as
    // Elasticsearch's own and without a random draw per item.
    private readonly byte[] _id = new byte[20];
    private int _nextId;

    public BulkResponse()
    {
        Span<byte> prefix = stackalloc byte[12];
        RandomNumberGenerator.Fill(prefix);
        System.Buffers.Text.Base64Url.EncodeToUtf8(prefix, _id);
    }

    public void Written(BulkItem item, string stream)
    {
        Head(item, stream);
        Append(WrittenTail);
    }

    public void Refused(BulkItem item, int status, string type, string reason)
    {
        _errors = true;
        Head(item, item.Stream ?? item.Index);
        Append(""","status":"""u8);
        Span<byte> digits = stackalloc byte[11];
        System.Buffers.Text.Utf8Formatter.TryFormat(status, digits, out var written);
        Append(digits[..written]);
        Append(""","error":{"type":"""u8);
        Append(Quoted(type));
        Append(""","reason":"""u8);
        Append(Quoted(reason));
        Append("}}}"u8);
    }

    /// <summary>Sets <c>took</c>; the answer is then ready to be written.</summary>
    public BulkResponse Took(long ms)
    {
        _tookMs = ms;
        return this;
    }

    /// <summary>Writes the answer and gives its buffer back to the pool.</summary>
    public async Task ExecuteAsync(HttpContext context)
    {
        try
        {
            var head = Encoding.ASCII.GetBytes(
                $"{{\"took\":{_tookMs},\"errors\":{(_errors ? "true" : "false")},\"items\":[");
            var response = context.Response;
            response.ContentType = "application/json";
            response.ContentLength = head.Length + _length + End.Length;
            await response.Body.WriteAsync(head, context.RequestAborted);
            await response.Body.WriteAsync(_buffer.AsMemory(0, _length), context.RequestAborted);
            await response.Body.WriteAsync(End, context.RequestAborted);
        }
        finally
        {
            Dispose();
        }
    }

    private void Head(BulkItem item, string index)
    {
        if (_head.Index is null || _head.Action != item.Action
            || !ReferenceEquals(_head.Index, index) && _head.Index != index)
        {
            var head = new List<byte>(64);
            head.AddRange("{\""u8);
            head.AddRange(Action(item.Action));
            head.AddRange("\":{\"_index\":"u8);
            head.AddRange(Quoted(index));
            head.AddRange(",\"_id\":"u8);
            _head = (item.Action, index, head.ToArray());
        }
        if (_length > 0) Append(","u8);
        Append(_head.Head);
        if (item.Id is { } id) Append(Quoted(id));
        else
        {
            Append("\""u8);
            Append(NewId());
            Append("\""u8);
        }
    }

    private static byte[] Quoted(string text) => JsonSerializer.SerializeToUtf8Bytes(text);

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes.Length));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private static ReadOnlySpan<byte> Action(BulkAction a) => a switch
    {
        BulkAction.Index => "index"u8,
        BulkAction.Create => "create"u8,
        BulkAction.Update => "update"u8,
        _ => "delete"u8,
    };

    /// <summary>An id as Elasticsearch makes them: 20 URL-safe base64 characters (16 random, then the item's
    /// number in 4).</summary>
    private ReadOnlySpan<byte> NewId()
    {
        Span<byte> n = stackalloc byte[3];
        var k = _nextId++;
        n[0] = (byte)(k >> 16);
        n[1] = (byte)(k >> 8);
        n[2] = (byte)k;
        System.Buffers.Text.Base64Url.EncodeToUtf8(n, _id.AsSpan(16));
        return _id;
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
