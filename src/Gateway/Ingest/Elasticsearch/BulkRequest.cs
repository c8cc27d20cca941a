using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Elasticsearch;

/// <summary>What a bulk item asks for.</summary>
public enum BulkAction
{
    Index,
    Create,
    Update,
    Delete,
}

/// <summary>One action of a bulk body: its document's place in the body, or why it is refused.</summary>
/// <param name="Stream">The normalized stream (from <c>_index</c> or the path), null when refused.</param>
public readonly record struct BulkItem(BulkAction Action, string Index, string? Stream, string? Id,
    int DocStart, int DocLength, string? Refusal);

/// <summary>
/// The NDJSON of <c>_bulk</c>: an action line (<c>index</c>, <c>create</c>, <c>update</c>, <c>delete</c>, with
/// <c>_index</c> and <c>_id</c>), then the document line for all but <c>delete</c>. Documents are left unparsed
/// here (the JSON record reader reads them, item by item); a malformed action line fails the whole body, as in
/// Elasticsearch, since the lines after it cannot be paired.
/// </summary>
public static class BulkRequest
{
    /// <param name="forcedIndex">The stream the request asked for (<c>?stream=</c>): it replaces every
    /// <c>_index</c>.</param>
    /// <returns>Null, or why the body is not a bulk request.</returns>
    public static string? Parse(ReadOnlySpan<byte> body, string? defaultIndex, List<BulkItem> items,
        string? forcedIndex = null)
    {
        var offset = 0;
        var line = 0;
        // Bulk requests name one index or a few: each is normalized once.
        string? lastIndex = null, lastStream = null;
        while (NextLine(body, ref offset, ref line, out var actionStart, out var actionLength))
        {
            if (ReadAction(body.Slice(actionStart, actionLength), out var action, out var index, out var id) is
                { } bad)
                return $"Malformed action/metadata line [{line}]: {bad}";
            index = forcedIndex ?? index ?? defaultIndex;
            var docStart = 0;
            var docLength = 0;
            if (action != BulkAction.Delete)
            {
                if (!NextLine(body, ref offset, ref line, out docStart, out docLength))
                    return $"the action of line [{line}] has no document line after it";
            }
            if (index is not null && index != lastIndex)
            {
                lastIndex = index;
                lastStream = NameRules.Normalize(index);
            }
            var stream = index is null ? null : lastStream;
            string? refusal = action switch
            {
                BulkAction.Update => "update is not supported: documents are appended, never changed",
                BulkAction.Delete => "delete is not supported: data leaves by retention or stream deletion",
                _ when index is null => "the action names no _index and the path no index",
                _ when stream is null => $"invalid index name [{index}]: {IngestRequest.StreamRule}",
                _ => null,
            };
            items.Add(new BulkItem(action, index ?? "", refusal is null ? stream : null, id, docStart, docLength,
                refusal));
        }
        return null;
    }

    /// <summary>The next line that is not blank (without its line end).</summary>
    private static bool NextLine(ReadOnlySpan<byte> body, ref int offset, ref int line, out int start,
        out int length)
    {
        while (offset < body.Length)
        {
            start = offset;
            var rest = body[offset..];
            var nl = rest.IndexOf((byte)'\n');
            var text = (nl < 0 ? rest : rest[..nl]).TrimEnd((byte)'\r');
            length = text.Length;
            offset += nl < 0 ? rest.Length : nl + 1;
            line++;
            if (!text.Trim(" \t"u8).IsEmpty) return true;
        }
        start = length = 0;
        return false;
    }

    private static string? ReadAction(ReadOnlySpan<byte> line, out BulkAction action, out string? index,
        out string? id)
    {
        action = default;
        index = null;
        id = null;
        try
        {
            var r = new Utf8JsonReader(line);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return "expected an object";
            if (!r.Read() || r.TokenType != JsonTokenType.PropertyName) return "expected an action";
            if (r.ValueTextEquals("index"u8)) action = BulkAction.Index;
            else if (r.ValueTextEquals("create"u8)) action = BulkAction.Create;
            else if (r.ValueTextEquals("update"u8)) action = BulkAction.Update;
            else if (r.ValueTextEquals("delete"u8)) action = BulkAction.Delete;
            else return $"unknown action [{r.GetString()}]";
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return "the action's value must be an object";
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var isIndex = r.ValueTextEquals("_index"u8);
                var isId = r.ValueTextEquals("_id"u8);
                r.Read();
                if (isIndex && r.TokenType == JsonTokenType.String) index = r.GetString();
                else if (isId && r.TokenType is JsonTokenType.String) id = r.GetString();
                else if (isId && r.TokenType is JsonTokenType.Number) id = r.GetRawText();
                else r.Skip();
            }
            return null;
        }
        catch (JsonException e)
        {
            return e.Message;
        }
    }
}

internal static class Utf8JsonReaderText
{
    public static string GetRawText(this ref Utf8JsonReader r) => System.Text.Encoding.UTF8.GetString(r.ValueSpan);
}
