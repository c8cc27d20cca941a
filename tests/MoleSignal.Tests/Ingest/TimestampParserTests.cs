using System.Globalization;
using System.Text;
using MoleSignal.Gateway.Ingest;

namespace MoleSignal.Tests.Ingest;

public sealed class TimestampParserTests
{
    [Theory]
    [InlineData("2026-01-01T00:00:00Z")]
    [InlineData("2026-01-01T00:00:00.123456Z")]
    [InlineData("2026-01-01T00:00:00.1Z")]
    [InlineData("2026-01-01T00:00:00.123456789Z")]
    [InlineData("2026-03-01T12:34:56+05:30")]
    [InlineData("1999-12-31T23:59:59.999999-08:00")]
    [InlineData("2024-02-29T01:02:03z")]
    [InlineData("1970-01-01T00:00:00Z")]
    [InlineData("1969-07-20T20:17:40Z")]
    public void The_hand_parser_agrees_with_the_framework(string text)
    {
        Assert.True(TimestampParser.TryRfc3339(Encoding.ASCII.GetBytes(text), out var fast));
        var dto = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
        Assert.Equal((dto.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, fast);
    }

    [Theory]
    [InlineData("2026-02-30T00:00:00Z")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("2026-01-01T24:00:00Z")]
    [InlineData("2026-01-01T00:00:00")]
    [InlineData("2026-01-01T00:00:00.Z")]
    [InlineData("2026-01-01T00:00:00+0530")]
    [InlineData("yesterday at noon...")]
    public void Malformed_values_are_not_taken_by_the_hand_parser(string text) =>
        Assert.False(TimestampParser.TryRfc3339(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void Other_date_forms_still_parse_through_the_fallback()
    {
        Assert.True(TimestampParser.TryFromUtf8("2026-01-01 00:00:00"u8, out var v));
        Assert.Equal(1767225600000000, v);
        Assert.False(TimestampParser.TryFromUtf8("not a time"u8, out _));
    }
}
