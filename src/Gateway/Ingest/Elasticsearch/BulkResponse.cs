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

    public BulkResponse()
    {
        _items = new Utf8JsonWriter(_buffer);
        _items.WriteStartArray();
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
        w.WriteString("_id"u8, item.Id ?? NewId());
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

    private static string Action(BulkAction a) => a switch
    {
        BulkAction.Index => "index",
        BulkAction.Create => "create",
        BulkAction.Update => "update",
        _ => "delete",
    };

    /// <summary>An id as Elasticsearch makes them: 20 URL-safe base64 characters.</summary>
    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[15];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    public void Dispose() => _items.Dispose();
}
