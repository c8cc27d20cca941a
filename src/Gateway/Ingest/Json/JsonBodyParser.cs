using System.Text.Json;

namespace MoleSignal.Gateway.Ingest.Json;

/// <summary>
/// Feeds the records of a body to a <see cref="RecordBuilder"/>: one JSON object, JSON arrays of objects, or
/// NDJSON (any sequence of top-level values, so pretty-printed objects work too). A malformed NDJSON record is
/// rejected alone and parsing resumes at the next line; a malformed array is the whole body's failure.
/// </summary>
public static class JsonBodyParser
{
    public static readonly JsonReaderOptions Options = new()
    {
        AllowMultipleValues = true,
        MaxDepth = 1024,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>
    /// Malformed lines parsed before the rest of the body is rejected unparsed: each costs an exception, and a
    /// body of millions of them must still answer in about a second.
    /// </summary>
    public const int MaxMalformedLines = 1000;

    /// <returns>Null on success, else why the body as a whole is not JSON (then nothing of it may be written).</returns>
    public static string? Parse(ReadOnlySpan<byte> body, RecordBuilder builder)
    {
        if (body.StartsWith("\xEF\xBB\xBF"u8)) body = body[3..];
        var index = 0;
        var offset = 0;
        var sawJson = false;
        var malformed = 0;
        while (offset < body.Length)
        {
            var input = body[offset..];
            if (malformed > 0 && SkipUnlikeJson(ref offset, input, builder, ref index, ref malformed)) continue;
            if (malformed >= MaxMalformedLines)
            {
                RejectRest(input, builder, ref index);
                return null;
            }
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
                            JsonRecordReader.Add(builder, ref reader, input, index++);
                        inArray = false;
                    }
                    else
                    {
                        inRecord = index++;
                        JsonRecordReader.Add(builder, ref reader, input, inRecord);
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
                malformed++;
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

    /// <summary>After a malformed line, a line that cannot start a JSON value is rejected without a parse.</summary>
    private static bool SkipUnlikeJson(ref int offset, ReadOnlySpan<byte> input, RecordBuilder builder,
        ref int index, ref int malformed)
    {
        var start = input.IndexOfAnyExcept(" \t\r\n"u8);
        if (start < 0)
        {
            offset += input.Length;
            return true;
        }
        if (input[start] is (byte)'{' or (byte)'[' or (byte)'"' or (byte)'-' or (>= (byte)'0' and <= (byte)'9')
            or (byte)'t' or (byte)'f' or (byte)'n')
            return false;
        builder.Reject(index++, "invalid JSON: a record must be a JSON object");
        var nl = input[start..].IndexOf((byte)'\n');
        offset += nl < 0 ? input.Length : start + nl + 1;
        return true;
    }

    /// <summary>Every remaining non-empty line is rejected, unparsed.</summary>
    private static void RejectRest(ReadOnlySpan<byte> rest, RecordBuilder builder, ref int index)
    {
        while (!rest.IsEmpty)
        {
            var nl = rest.IndexOf((byte)'\n');
            var line = nl < 0 ? rest : rest[..nl];
            if (!line.Trim(" \t\r"u8).IsEmpty)
                builder.Reject(index++, $"not parsed: the body has more than {MaxMalformedLines} malformed records");
            rest = nl < 0 ? default : rest[(nl + 1)..];
        }
    }

    // The first record failing is the body's failure when it does not even start like a JSON value.
    private static bool LooksUnlikeJson(ReadOnlySpan<byte> rest)
    {
        rest = rest.TrimStart(" \t\r\n"u8);
        return rest.IsEmpty || (rest[0] != '{' && rest[0] != '[');
    }
}
