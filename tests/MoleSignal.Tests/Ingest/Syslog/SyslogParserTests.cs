using System.Text;
using System.Text.Json;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Syslog;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Ingest.Syslog;

public sealed class SyslogParserTests
{
    // 2027-01-10T12:00:00Z
    private static readonly long Arrival = new DateTimeOffset(2027, 1, 10, 12, 0, 0, TimeSpan.Zero)
        .ToUnixTimeMilliseconds() * 1000;

    private static JsonElement Parse(string message)
    {
        using var b = new RecordBuilder(new IngestLimits(), Arrival);
        SyslogParser.AddRecord(b, Encoding.UTF8.GetBytes(message), Arrival, 0);
        Assert.Empty(b.Errors);
        var line = b.Build().SelectMany(BatchJson.Lines).Single();
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static string? Str(JsonElement r, string key) =>
        r.TryGetProperty(key, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText() : null;

    private static long Micros(string iso) => DateTimeOffset.Parse(iso).ToUnixTimeMilliseconds() * 1000;

    [Fact]
    public void Rfc5424_header_structured_data_and_message_are_fields()
    {
        var r = Parse("<134>1 2027-01-10T11:59:58.123Z web-1 shop 4242 ORDER " +
                      "[meta@1 region=\"eu \\\"west\\\"\" zone=\"a\\]\"][origin ip=\"10.0.0.1\"] \uFEFFpaid 42");
        Assert.Equal("16", Str(r, "facility"));
        Assert.Equal("6", Str(r, "severity"));
        Assert.Equal("web-1", Str(r, "hostname"));
        Assert.Equal("shop", Str(r, "app_name"));
        Assert.Equal("4242", Str(r, "proc_id"));
        Assert.Equal("ORDER", Str(r, "msg_id"));
        Assert.Equal("eu \"west\"", Str(r, "meta_1_region"));
        Assert.Equal("a]", Str(r, "meta_1_zone"));
        Assert.Equal("10.0.0.1", Str(r, "origin_ip"));
        Assert.Equal("paid 42", Str(r, "message"));
        Assert.Equal(Micros("2027-01-10T11:59:58.123Z"), r.GetProperty("_timestamp").GetInt64());
    }

    [Fact]
    public void Rfc5424_nil_values_are_left_out_and_the_arrival_time_stands_in()
    {
        var r = Parse("<13>1 - - - - - - only text\n");
        Assert.Equal("1", Str(r, "facility"));
        Assert.Equal("5", Str(r, "severity"));
        Assert.Null(Str(r, "hostname"));
        Assert.Null(Str(r, "app_name"));
        Assert.Equal("only text", Str(r, "message"));
        Assert.Equal(Arrival, r.GetProperty("_timestamp").GetInt64());
    }

    [Fact]
    public void Rfc3164_reads_host_tag_and_pid_as_utc_in_the_year_nearest_the_arrival()
    {
        var r = Parse("<38>Jan  9 08:07:06 gw sshd[991]: Accepted publickey for ops");
        Assert.Equal("4", Str(r, "facility"));
        Assert.Equal("6", Str(r, "severity"));
        Assert.Equal("gw", Str(r, "hostname"));
        Assert.Equal("sshd", Str(r, "app_name"));
        Assert.Equal("991", Str(r, "proc_id"));
        Assert.Equal("Accepted publickey for ops", Str(r, "message"));
        Assert.Equal(Micros("2027-01-09T08:07:06Z"), r.GetProperty("_timestamp").GetInt64());
        // December seen in January is last December.
        var dec = Parse("<38>Dec 31 23:59:59 gw cron: tick");
        Assert.Equal(Micros("2026-12-31T23:59:59Z"), dec.GetProperty("_timestamp").GetInt64());
        Assert.Equal("cron", Str(dec, "app_name"));
    }

    [Theory]
    [InlineData("plain line without a priority")]
    [InlineData("<999>1 2027-01-10T00:00:00Z h a p m - too high a priority")]
    [InlineData("<12 never closed")]
    public void A_message_without_a_valid_priority_is_all_message(string text)
    {
        var r = Parse(text);
        Assert.Equal(text, Str(r, "message"));
        Assert.Null(Str(r, "facility"));
    }

    [Fact]
    public void Broken_structured_data_keeps_the_header_and_does_not_throw()
    {
        var r = Parse("<14>1 2027-01-10T11:00:00Z h app - - [id k=\"never closed");
        Assert.Equal("app", Str(r, "app_name"));
        Assert.Equal("1", Str(r, "facility"));
    }

    [Fact]
    public void Framing_reads_octet_counted_and_lf_frames_mixed()
    {
        var data = "11 <13>1 - - x<13>rest\n\n"u8.ToArray();
        Assert.Equal(SyslogFraming.Result.Frame, SyslogFraming.Next(data, 100, out var f, out var used));
        Assert.Equal("<13>1 - - x", Encoding.UTF8.GetString(data[f]));
        Assert.Equal(14, used);
        Assert.Equal(SyslogFraming.Result.Frame, SyslogFraming.Next(data.AsSpan(used), 100, out f, out var used2));
        Assert.Equal("<13>rest", Encoding.UTF8.GetString(data.AsSpan(used)[f]));
        // A blank line is an empty frame, which the listener skips.
        Assert.Equal(SyslogFraming.Result.Frame, SyslogFraming.Next(data.AsSpan(used + used2), 100, out f, out _));
        Assert.Equal(0, f.GetOffsetAndLength(1).Length);
    }

    [Theory]
    [InlineData("30 short", SyslogFraming.Result.Incomplete)]
    [InlineData("12345", SyslogFraming.Result.Incomplete)]
    [InlineData("99999999999999 x", SyslogFraming.Result.Bad)]
    [InlineData("200 over the limit", SyslogFraming.Result.Bad)]
    [InlineData("1x2 not a number", SyslogFraming.Result.Bad)]
    [InlineData("<13> no line feed yet", SyslogFraming.Result.Incomplete)]
    public void Framing_waits_for_more_or_refuses_what_cannot_be_trusted(string text, SyslogFraming.Result want)
    {
        Assert.Equal(want, SyslogFraming.Next(Encoding.UTF8.GetBytes(text), 100, out _, out _));
    }

    [Fact]
    public void A_line_longer_than_the_limit_without_a_line_feed_is_refused()
    {
        var data = Encoding.UTF8.GetBytes("<13>" + new string('x', 200));
        Assert.Equal(SyslogFraming.Result.Bad, SyslogFraming.Next(data, 100, out _, out _));
    }
}
