using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>
/// The answer of <c>_bulk</c> in Elasticsearch's shape: <c>took</c>, <c>errors</c> and one entry per item, in order,
/// keyed by its action, with its <c>status</c> (201 written, 4xx refused, 503 retry later) and, when not written,
/// <c>error.type</c> / <c>error.reason</c>. Shippers retry the items whose status says so, item by item.
/// </summary>
public sealed class BulkResponse : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _items;
    private bool _errors;
    // Ids of documents without one: a random prefix per answer and the item's number, as unique as
    // Elasticsearch's own and without a random draw per item.
    private readonly byte[] _id = new byte[20];
    private int _nextId;

    public BulkResponse()
    {
        _items = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        _items.WriteStartArray();
        Span<byte> prefix = stackalloc byte[12];
        RandomNumberGenerator.Fill(prefix);
        System.Buffers.Text.Base64Url.EncodeToUtf8(prefix, _id);
    }

    public void Written(BulkItem item, string stream) => Item(item, stream, 201, null, null);

    public void Refused(BulkItem item, int status, string type, string reason) =>
        Item(item, item.Stream ?? item.Index, status, type, reason);

    private void Item(BulkItem item, string index, int status, string? type, string? reason)
    {
        var w = _items;
        w.WriteStartObject();
        w.WriteStartObject(Action(item.Action));
        w.WriteString("_index"u8, index);
        if (item.Id is { } id) w.WriteString("_id"u8, id);
        else w.WriteString("_id"u8, NewId());
        w.WriteNumber("status"u8, status);
        if (type is null)
        {
            w.WriteNumber("_version"u8, 1);
            w.WriteString("result"u8, "created"u8);
            w.WriteStartObject("_shards"u8);
            w.WriteNumber("total"u8, 1);
            w.WriteNumber("successful"u8, 1);
            w.WriteNumber("failed"u8, 0);
            w.WriteEndObject();
            w.WriteNumber("_seq_no"u8, 0);
            w.WriteNumber("_primary_term"u8, 1);
        }
        else
        {
            _errors = true;
            w.WriteStartObject("error"u8);
            w.WriteString("type"u8, type);
            w.WriteString("reason"u8, reason);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The whole answer: <c>{"took":…,"errors":…,"items":[…]}</c>.</summary>
    public byte[] ToBytes(long tookMs)
    {
        _items.WriteEndArray();
        _items.Flush();
        var output = new ArrayBufferWriter<byte>(_buffer.WrittenCount + 64);
        using (var w = new Utf8JsonWriter(output))
        {
            w.WriteStartObject();
            w.WriteNumber("took"u8, tookMs);
            w.WriteBoolean("errors"u8, _errors);
            w.WritePropertyName("items"u8);
            w.WriteRawValue(_buffer.WrittenSpan, skipInputValidation: true);
            w.WriteEndObject();
        }
        return output.WrittenSpan.ToArray();
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

    public void Dispose() => _items.Dispose();
}
