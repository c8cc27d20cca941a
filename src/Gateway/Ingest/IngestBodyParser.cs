using System.Text.Json;

namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// Feeds the records of a body to a <see cref="FlatBatchBuilder"/>: one JSON object, JSON arrays of objects, or
/// NDJSON (any sequence of top-level values, so pretty-printed objects work too). A malformed NDJSON record is
/// rejected alone and parsing resumes at the next line; a malformed array is the whole body's failure.
/// </summary>
public static class IngestBodyParser
{
    private static readonly JsonReaderOptions Options = new()
    {
        AllowMultipleValues = true,
        MaxDepth = 1024,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <returns>Null on success, else why the body as a whole is not JSON (then nothing of it may be written).</returns>
    public static string? Parse(ReadOnlySpan<byte> body, FlatBatchBuilder builder)
    {
        if (body.StartsWith("\xEF\xBB\xBF"u8)) body = body[3..];
        var index = 0;
        var offset = 0;
        var sawJson = false;
        while (offset < body.Length)
        {
            var input = body[offset..];
            var reader = new Utf8JsonReader(input, isFinalBlock: true, new JsonReaderState(Options));
            var recordStart = 0;
            var inArray = false;
            var inRecord = -1; // the index of a record whose parse may throw
            var lastEnd = 0;
            try
            {
                while (reader.Read())
                {
                    recordStart = (int)reader.TokenStartIndex;
                    if (reader.TokenType == JsonTokenType.StartArray && reader.CurrentDepth == 0)
                    {
                        inArray = true;
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                            builder.Add(ref reader, input, index++);
                        inArray = false;
                    }
                    else
                    {
                        inRecord = index++;
                        builder.Add(ref reader, input, inRecord);
                        inRecord = -1;
                    }
                    sawJson = true;
                    lastEnd = (int)reader.BytesConsumed;
                }
                return sawJson || builder.Rejected > 0 ? null : "request body is empty";
            }
            catch (JsonException e)
            {
                if (inArray) return $"request body is not valid JSON: {e.Message}";
                if (!sawJson && index == 0 && builder.Accepted == 0 && LooksUnlikeJson(input[recordStart..]))
                    return $"request body is not JSON: {e.Message}";
                builder.Reject(inRecord >= 0 ? inRecord : index++, $"invalid JSON: {e.Message}");
                if (inRecord < 0)
                {
                    // Failed between records: the bad one starts after the last good one.
                    recordStart = lastEnd;
                    while (recordStart < input.Length && input[recordStart] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') recordStart++;
                }
                var nl = input[recordStart..].IndexOf((byte)'\n');
                if (nl < 0) return null;
                offset += recordStart + nl + 1;
            }
        }
        return sawJson || builder.Rejected > 0 ? null : "request body is empty";
    }

    // The first record failing is the body's failure when it does not even start like a JSON value.
    private static bool LooksUnlikeJson(ReadOnlySpan<byte> rest)
    {
        rest = rest.TrimStart(" \t\r\n"u8);
        return rest.IsEmpty || (rest[0] != '{' && rest[0] != '[');
    }
}
