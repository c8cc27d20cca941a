using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Ingest;

/// <summary>What passes the gateway is always flushable: timestamps in range, valid UTF-8, bounded fields.</summary>
public sealed class IngestHardeningTests
{
    private const long Arrival = 1_800_000_000_000_000; // 2027-01-15
    private const long Day = 86_400_000_000;

    private static (List<JsonElement> Records, RecordBuilder Builder) Parse(byte[] body, IngestLimits? limits = null, FieldBudget? budget = null)
    {
        var builder = new RecordBuilder(limits ?? new IngestLimits(), Arrival, budget);
        Assert.Null(JsonBodyParser.Parse(body, builder));
        var records = builder.Build().SelectMany(BatchJson.Lines).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        builder.Dispose();
        return (records, builder);
    }

    private static (List<JsonElement> Records, RecordBuilder Builder) Parse(string body, IngestLimits? limits = null, FieldBudget? budget = null) =>
        Parse(Encoding.UTF8.GetBytes(body), limits, budget);

    [Theory]
    [InlineData("-99999999999", "before 1970-01-01")] // the record that once stopped a stream's flushes for ever
    [InlineData("-1", "before 1970-01-01")]
    [InlineData("\"1969-12-31T23:59:59Z\"", "before 1970-01-01")]
    [InlineData("\"9999-12-31T00:00:00Z\"", "after 2262-04-11")]
    [InlineData("1e300", "after 2262-04-11")]
    [InlineData("-9223372036854775808", "before 1970-01-01")]
    public void Timestamps_outside_the_valid_range_are_the_records_error(string ts, string reason)
    {
        var (records, b) = Parse($"{{\"_timestamp\": {ts}, \"message\": \"x\"}}\n{{\"message\": \"kept\"}}");
        Assert.Single(records);
        Assert.Equal("kept", records[0].GetProperty("message").GetString());
        Assert.Contains(reason, Assert.Single(b.Errors).Error);
    }

    [Fact]
    public void Allowed_past_and_future_hours_bound_timestamps_around_the_arrival_time()
    {
        var limits = new IngestLimits(AllowedPastHours: 7 * 24, AllowedFutureHours: 24);
        var body = string.Join("\n",
            $"{{\"_timestamp\": {Arrival - 8 * Day}}}",
            $"{{\"_timestamp\": {Arrival - 6 * Day}}}",
            $"{{\"_timestamp\": {Arrival + Day / 2}}}",
            $"{{\"_timestamp\": {Arrival + 2 * Day}}}");
        var (records, b) = Parse(body, limits);
        Assert.Equal(2, records.Count);
        Assert.Contains("[ingester].allowed_past_hours", b.Errors[0].Error);
        Assert.Contains("[ingester].allowed_future_hours", b.Errors[1].Error);
        // 0 = no limit for the future too.
        Assert.Equal(4, Parse(body, limits with { AllowedPastHours = 0, AllowedFutureHours = 0 }).Records.Count);
    }

    [Fact]
    public void Invalid_utf8_is_replaced_and_counted_and_nothing_else_of_the_record_is_lost()
    {
        var body = new List<byte>();
        body.AddRange("{\"message\": \"bad "u8.ToArray());
        body.AddRange(new byte[] { 0xFF, 0xFE });
        body.AddRange("\", \"lone\": \"\\ud800x\", \"nested\": [\""u8.ToArray());
        body.AddRange(new byte[] { 0xC3 });
        body.AddRange("\"], \"ok\": \"fine é\", \"n\": 5}"u8.ToArray());
        var (records, b) = Parse(body.ToArray());
        var r = Assert.Single(records);
        Assert.Equal("bad \uFFFD\uFFFD", r.GetProperty("message").GetString());
        Assert.Equal("\uFFFDx", r.GetProperty("lone").GetString());
        Assert.Equal("[\"\uFFFD\"]", r.GetProperty("nested").GetString());
        Assert.Equal("fine é", r.GetProperty("ok").GetString());
        Assert.Equal(5, r.GetProperty("n").GetInt32());
        Assert.Equal(3, b.InvalidUtf8Values);
        Assert.Empty(b.Errors);
    }

    [Fact]
    public void Distinct_field_names_of_a_request_are_capped()
    {
        // 200 records of 900 new keys each: at most max_request_fields distinct names are accepted.
        var (records, b) = Parse(WideBody.Ndjson());
        var fields = records.SelectMany(x => x.EnumerateObject().Select(p => p.Name)).Distinct().Count();
        Assert.True(fields <= 10_000, $"{fields} fields");
        Assert.Equal(11, records.Count); // 11 × 900 + message + _timestamp fit under 10,000
        Assert.Equal(189, b.Rejected);
        Assert.Contains("[ingester].max_request_fields", b.Errors[0].Error);
        Assert.Equal(RecordBuilder.MaxKeptErrors, b.Errors.Count);
    }

    [Fact]
    public void A_field_budget_keeps_known_fields_and_rejects_records_that_would_add_too_many()
    {
        var budget = new FieldBudget(new HashSet<string> { "_timestamp", "message", "level" }, AllowedNew: 1, MaxStreamFields: 4);
        var (records, b) = Parse("{\"message\":\"a\",\"level\":\"x\"}\n{\"message\":\"b\",\"new1\":1}\n{\"message\":\"c\",\"new2\":1}\n{\"new1\":2}", budget: budget);
        Assert.Equal(["a", "b", null], records.Select(r => r.TryGetProperty("message", out var m) ? m.GetString() : null));
        Assert.Contains("[ingester].max_stream_fields", Assert.Single(b.Errors).Error);
    }

    [Fact]
    public void Millions_of_malformed_lines_answer_quickly_with_a_bounded_error_list()
    {
        var sb = new StringBuilder();
        sb.Append("{\"message\":\"good\"}\n");
        for (var i = 0; i < 500_000; i++) sb.Append(i % 2 == 0 ? "{\"broken\n" : "garbage line\n");
        sb.Append("{\"message\":\"late\"}\n");
        var (records, b) = Parse(sb.ToString());
        // Past MaxMalformedLines the rest is rejected unparsed, the late good line with it (and said so).
        Assert.Equal("good", Assert.Single(records).GetProperty("message").GetString());
        Assert.Equal(500_001, b.Rejected);
        Assert.Equal(RecordBuilder.MaxKeptErrors, b.Errors.Count);
    }
}

/// <summary>Request bodies are bounded by the bytes that arrive, not by what the headers claim.</summary>
public sealed class BodyReaderTests
{
    private static DefaultHttpContext Request(byte[] body, string? encoding = null, long? contentLength = null)
    {
        var ctx = new DefaultHttpContext();
        ctx.Request.Body = new MemoryStream(body);
        ctx.Request.ContentLength = contentLength ?? body.Length;
        if (encoding is not null) ctx.Request.Headers.ContentEncoding = encoding;
        return ctx;
    }

    [Fact]
    public async Task A_zstd_frame_asking_for_a_window_over_the_cap_is_refused()
    {
        var data = new byte[64 << 20];
        new Random(3).NextBytes(data.AsSpan(0, 1 << 20));
        data.AsSpan(0, 1 << 20).CopyTo(data.AsSpan(40 << 20)); // a match 40 MiB back needs a 64 MiB window
        using var compressor = new ZstdSharp.Compressor(3);
        compressor.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_windowLog, 26);
        var frame = compressor.Wrap(data).ToArray();
        var ctx = Request(frame, "zstd");
        await Assert.ThrowsAsync<ZstdSharp.ZstdException>(() => BodyReader.ReadAsync(ctx.Request, 128L << 20, CancellationToken.None));
        // Within the cap, the same data decompresses.
        using var small = new ZstdSharp.Compressor(3);
        using var ok = await BodyReader.ReadAsync(Request(small.Wrap(data.AsSpan(0, 2 << 20)).ToArray(), "zstd").Request, 128L << 20, CancellationToken.None);
        Assert.Equal(2 << 20, ok.Length);
    }

    [Fact]
    public async Task A_claimed_content_length_is_not_trusted_before_the_bytes_arrive()
    {
        // A 10-byte body claiming 60 MiB reads as 10 bytes, without a 60 MiB buffer behind it.
        using var body = await BodyReader.ReadAsync(Request("{\"a\": 1}\n\n"u8.ToArray(), contentLength: 60L << 20).Request, 64L << 20, CancellationToken.None);
        Assert.Equal(10, body.Length);
        Assert.True(body.Capacity <= 1 << 20, $"{body.Capacity} bytes rented");
    }
}
