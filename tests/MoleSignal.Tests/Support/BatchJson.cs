using System.Text;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Tests.Support;

/// <summary>A batch payload read back as flat JSON objects, so tests can assert on records.</summary>
public static class BatchJson
{
    /// <summary>The rows as flat JSON objects; numbers and booleans written as their field's kind says.</summary>
    public static IEnumerable<string> Lines(IngestBatch batch)
    {
        var kinds = batch.FieldNames.Zip(batch.FieldKinds).ToDictionary(x => x.First, x => x.Second);
        var rows = new List<List<string>>();
        var reader = new BatchPayload.Reader(batch.Payload);
        foreach (var ts in reader.Timestamps) rows.Add([$"\"_timestamp\":{ts}"]);
        while (reader.Next(out var c))
        {
            var name = Encoding.UTF8.GetString(c.Name);
            var start = 0;
            for (var k = 0; k < c.Rows.Length; k++)
            {
                var value = batch.Payload.AsSpan(c.DataOffset + start, c.Ends[k] - start);
                start = c.Ends[k];
                var json = kinds.GetValueOrDefault(name) == FieldKind.Utf8
                    ? System.Text.Json.JsonSerializer.Serialize(Encoding.UTF8.GetString(value))
                    : Encoding.UTF8.GetString(value);
                rows[c.Rows[k]].Add($"{System.Text.Json.JsonSerializer.Serialize(name)}:{json}");
            }
        }
        return rows.Select(r => "{" + string.Join(",", r) + "}");
    }
}
