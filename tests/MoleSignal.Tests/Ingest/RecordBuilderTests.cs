using System.Text;
using System.Text.Json;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Ingest;

public sealed class RecordBuilderTests
{
    private const long Arrival = 1_800_000_000_000_000;

    private static (List<JsonElement> Records, RecordBuilder Builder, List<IngestBatch> Batches, string? Error) Parse(string body, IngestLimits? limits = null, FieldMapping? mapping = null)
    {
        var builder = new RecordBuilder(limits ?? new IngestLimits(), Arrival, mapping: mapping);
        var error = JsonBodyParser.Parse(Encoding.UTF8.GetBytes(body), builder);
        var batches = builder.Build();
        var records = new List<JsonElement>();
        foreach (var b in batches)
            foreach (var line in BatchJson.Lines(b))
                records.Add(JsonDocument.Parse(line).RootElement.Clone());
        builder.Dispose();
        return (records, builder, batches, error);
    }

    [Fact]
    public void Nested_objects_flatten_with_underscores_and_keys_are_normalized()
    {
        var (r, _, _, _) = Parse("""{"Level":"INFO","kubernetes":{"pod_name":"p-1","labels":{"app":"api"}},"http.status":200,"Weird Key!":1,"ünï":true}""");
        var rec = r.Single();
        Assert.Equal("INFO", rec.GetProperty("level").GetString());
        Assert.Equal("p-1", rec.GetProperty("kubernetes_pod_name").GetString());
        Assert.Equal("api", rec.GetProperty("kubernetes_labels_app").GetString());
        Assert.Equal(200, rec.GetProperty("http_status").GetInt32());
        Assert.Equal(1, rec.GetProperty("weird_key_").GetInt32());
        Assert.True(rec.GetProperty("_n_").GetBoolean());
    }

    [Fact]
    public void Objects_deeper_than_the_flatten_level_and_arrays_are_kept_as_json_text()
    {
        var (r, _, b, _) = Parse("""{"a":{"b":{"c":{"d":1,"e":"x\"y"}}},"tags":["t1",{"k":2}],"n":null}""", new IngestLimits(FlattenLevel: 3));
        var rec = r.Single();
        Assert.Equal("""{"d":1,"e":"x\"y"}""", rec.GetProperty("a_b_c").GetString());
        Assert.Equal("""["t1",{"k":2}]""", rec.GetProperty("tags").GetString());
        Assert.False(rec.TryGetProperty("n", out _));
        Assert.Equal(FieldKind.Utf8, b[0].FieldKinds[Array.IndexOf(b[0].FieldNames, "tags")]);
    }

    [Theory]
    [InlineData("{\"_timestamp\":1767225600}", 1767225600000000)]
    [InlineData("{\"_timestamp\":1767225600123}", 1767225600123000)]
    [InlineData("{\"_timestamp\":1767225600123456}", 1767225600123456)]
    [InlineData("{\"_timestamp\":1767225600123456789}", 1767225600123456)]
    [InlineData("{\"_timestamp\":1767225600.5}", 1767225600500000)]
    [InlineData("{\"@timestamp\":\"2026-01-01T00:00:00.250000Z\"}", 1767225600250000)]
    [InlineData("{\"timestamp\":\"2026-01-01T01:00:00+01:00\"}", 1767225600000000)]
    [InlineData("{\"timestamp\":\"1767225600\"}", 1767225600000000)]
    [InlineData("{\"message\":\"no time\"}", Arrival)]
    [InlineData("{\"timestamp\":\"2025-01-01T00:00:00Z\",\"_timestamp\":1767225600000000}", 1767225600000000)]
    public void Timestamps_are_scaled_to_microseconds(string body, long expected)
    {
        var (r, _, b, _) = Parse(body);
        Assert.Equal(expected, r.Single().GetProperty("_timestamp").GetInt64());
        Assert.Equal(expected, b[0].MinTimestamp);
        Assert.False(r.Single().TryGetProperty("timestamp", out _));
    }

    [Fact]
    public void A_bad_timestamp_rejects_only_that_record()
    {
        var (r, builder, _, error) = Parse("{\"_timestamp\":\"yesterday\"}\n{\"_timestamp\":1767225600,\"m\":1}\n");
        Assert.Null(error);
        Assert.Single(r);
        Assert.Equal(0, builder.Errors.Single().Index);
        Assert.Contains("timestamp", builder.Errors.Single().Error);
    }

    [Fact]
    public void Body_forms_single_object_array_ndjson_and_pretty_printed()
    {
        Assert.Single(Parse("{\"a\":1}").Records);
        Assert.Equal(3, Parse("[{\"a\":1},{\"a\":2},{\"a\":3}]").Records.Count);
        Assert.Equal(3, Parse("{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}\n").Records.Count);
        Assert.Equal(2, Parse("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n").Records.Count);
    }

    [Fact]
    public void A_malformed_ndjson_line_is_rejected_alone()
    {
        var (r, builder, _, error) = Parse("{\"a\":1}\n{\"a\":\n{\"a\":3}\nnot json\n{\"a\":5}\n");
        Assert.Null(error);
        Assert.Equal([1, 3, 5], r.Select(x => x.GetProperty("a").GetInt32()));
        Assert.Equal([1, 3], builder.Errors.Select(e => e.Index));
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("")]
    [InlineData("   \n ")]
    [InlineData("[{\"a\":1},{\"a\":")]
    public void A_body_that_is_not_json_is_an_error_for_the_whole_body(string body)
    {
        Assert.NotNull(Parse(body).Error);
    }

    [Fact]
    public void Non_object_records_are_rejected()
    {
        var (r, builder, _, _) = Parse("[1, \"x\", {\"a\":1}, [2]]");
        Assert.Single(r);
        Assert.Equal([0, 1, 3], builder.Errors.Select(e => e.Index));
    }

    [Fact]
    public void Too_many_fields_too_deep_or_too_large_reject_the_record_alone()
    {
        var many = "{" + string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"f{i}\":{i}")) + "}";
        var deep = new string('[', 40) + new string(']', 40);
        var deepObj = string.Concat(Enumerable.Repeat("{\"x\":", 40)) + "1" + new string('}', 40);
        var big = "{\"m\":\"" + new string('x', 3000) + "\"}";
        var body = string.Join("\n", many, "{\"d\":" + deep + "}", deepObj, big, "{\"ok\":1}");
        var (r, builder, _, _) = Parse(body, new IngestLimits(MaxColumns: 10, MaxNestingDepth: 32, MaxRecordBytes: 2048, FlattenLevel: 50));
        Assert.Single(r);
        Assert.Equal(1, r[0].GetProperty("ok").GetInt32());
        Assert.Equal(4, builder.Errors.Count);
        Assert.Contains("more than 10 fields", builder.Errors[0].Error);
        Assert.Contains("nesting deeper", builder.Errors[1].Error);
        Assert.Contains("nesting deeper", builder.Errors[2].Error);
        Assert.Contains("2048-byte limit", builder.Errors[3].Error);
        // The rejected records left no fields behind.
        var batch = Parse(body, new IngestLimits(MaxColumns: 10, MaxNestingDepth: 32, MaxRecordBytes: 2048, FlattenLevel: 50)).Batches.Single();
        Assert.Equal(["_timestamp", "ok"], batch.FieldNames);
    }

    [Fact]
    public void Very_deep_nesting_never_overflows_the_stack()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        var (r, builder, _, _) = Parse("{\"d\":" + deep + "}\n{\"ok\":1}");
        Assert.Single(r);
        Assert.Single(builder.Errors);
    }

    [Fact]
    public void Repeated_keys_keep_the_first_and_a_key_normalizing_to_timestamp_is_dropped()
    {
        var (r, _, _, _) = Parse("{\"a_b\":1,\"a\":{\"b\":2},\"A_B\":3,\"_TIMESTAMP\":\"x\"}");
        Assert.Equal(1, r.Single().GetProperty("a_b").GetInt32());
        Assert.Equal(Arrival, r.Single().GetProperty("_timestamp").GetInt64());
    }

    [Fact]
    public void Field_kinds_widen_within_a_batch()
    {
        var (_, _, b, _) = Parse("{\"n\":1,\"f\":1,\"s\":1,\"b\":true}\n{\"n\":2,\"f\":1.5,\"s\":\"x\",\"b\":false}\n");
        var kinds = b[0].FieldNames.Zip(b[0].FieldKinds).ToDictionary(x => x.First, x => x.Second);
        Assert.Equal(FieldKind.Int64, kinds["n"]);
        Assert.Equal(FieldKind.Float64, kinds["f"]);
        Assert.Equal(FieldKind.Utf8, kinds["s"]);
        Assert.Equal(FieldKind.Bool, kinds["b"]);
    }

    [Fact]
    public void Escaped_strings_and_keys_survive()
    {
        var (r, _, _, _) = Parse("{\"m\":\"line1\\nline2 \\u00e9 \\\"q\\\"\",\"k\\u0041\":1}");
        Assert.Equal("line1\nline2 é \"q\"", r.Single().GetProperty("m").GetString());
        Assert.Equal(1, r.Single().GetProperty("ka").GetInt32());
    }

    [Fact]
    public void Large_bodies_split_into_batches_under_the_batch_limit()
    {
        var body = string.Join("\n", Enumerable.Range(0, 2000).Select(i => $"{{\"i\":{i},\"m\":\"{new string('x', 100)}\"}}"));
        var (r, _, b, _) = Parse(body, new IngestLimits(MaxBatchBytes: 32 * 1024));
        Assert.True(b.Count > 5);
        Assert.Equal(2000, b.Sum(x => x.Count));
        Assert.All(b, x => Assert.True(x.Payload.Length < 40 * 1024));
        Assert.Equal(Enumerable.Range(0, 2000), r.Select(x => x.GetProperty("i").GetInt32()));
    }

    private static FieldMapping Mapping(string? message, string? time) =>
        FieldMapping.Create(message, time, out _) ?? throw new InvalidOperationException("no mapping");

    [Fact]
    public void The_requests_message_field_is_stored_as_message_and_its_time_field_as_the_timestamp()
    {
        var (r, _, b, _) = Parse(
            "{\"log\":\"hello\",\"ts\":\"2027-01-02T03:04:05Z\",\"_timestamp\":1}\n" +
            "{\"log\":\"esc\\\"aped\",\"ts\":\"2027-01-02T03:04:06\\u005A\"}\n" +
            "{\"log\":\"num\",\"ts\":1798772645000}\n" +
            "{\"log\":\"no time\"}\n",
            mapping: Mapping("log", "TS"));
        Assert.Equal(["hello", "esc\"aped", "num", "no time"], r.Select(x => x.GetProperty("message").GetString()));
        Assert.Equal([Micros("2027-01-02T03:04:05Z"), Micros("2027-01-02T03:04:06Z"), 1798772645000L * 1000, Arrival],
            r.Select(x => x.GetProperty("_timestamp").GetInt64()));
        Assert.DoesNotContain("log", b[0].FieldNames);
        Assert.DoesNotContain("ts", b[0].FieldNames);
    }

    [Fact]
    public void A_nested_message_field_is_named_by_its_flattened_key()
    {
        var (r, _, _, _) = Parse("{\"kubernetes\":{\"log\":\"inner\"},\"log\":\"outer\"}",
            mapping: Mapping("kubernetes.log", null));
        Assert.Equal("inner", r.Single().GetProperty("message").GetString());
        Assert.Equal("outer", r.Single().GetProperty("log").GetString());
    }

    [Fact]
    public void A_time_field_that_is_no_timestamp_rejects_its_record_alone()
    {
        var (r, builder, _, _) = Parse("{\"ts\":\"yesterday\",\"m\":1}\n{\"ts\":1798772645,\"m\":2}",
            mapping: Mapping(null, "ts"));
        Assert.Equal(2, r.Single().GetProperty("m").GetInt32());
        Assert.Contains("_time_field", builder.Errors.Single().Error);
    }

    [Fact]
    public void A_mapping_names_nothing_when_neither_field_is_given_and_refuses_an_overlong_name()
    {
        Assert.Null(FieldMapping.Create(null, "", out var error));
        Assert.Null(error);
        Assert.Null(FieldMapping.Create(new string('x', 300), null, out error));
        Assert.Contains("longer than 256", error);
    }

    [Fact]
    public void A_reset_builder_keeps_only_the_records_added_after_it()
    {
        using var builder = new RecordBuilder(new IngestLimits(MaxBatchBytes: 200), Arrival);
        for (var i = 0; i < 20; i++)
        {
            builder.BeginRecord();
            builder.AddString("before"u8, Encoding.UTF8.GetBytes($"value {i}"));
            if (i == 3) builder.Fail("bad");
            builder.EndRecord(i, 10);
        }
        builder.Reset();
        builder.BeginRecord();
        builder.AddInt64("after"u8, 7);
        builder.EndRecord(0, 10);

        var batches = builder.Build();
        Assert.Equal(1, builder.Accepted);
        Assert.Equal(0, builder.Rejected);
        var batch = Assert.Single(batches);
        Assert.Equal(["_timestamp", "after"], batch.FieldNames);
        var line = JsonDocument.Parse(Assert.Single(BatchJson.Lines(batch))).RootElement;
        Assert.Equal(7, line.GetProperty("after").GetInt32());
        Assert.False(line.TryGetProperty("before", out _));
    }

    private static long Micros(string iso) => DateTimeOffset.Parse(iso).ToUnixTimeMilliseconds() * 1000;
}
