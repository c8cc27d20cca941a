using MoleSignal.Grains.Index;

namespace MoleSignal.Tests.Index;

public sealed class TextTokensTests
{
    [Theory]
    [InlineData("GET /api/v1/orders 200 9.2ms", new[] { "get", "api", "v1", "orders", "200", "9", "2ms" })]
    [InlineData("xyzzy-42 XYZZY3", new[] { "xyzzy", "42", "xyzzy3" })]
    [InlineData("Größe: Straße—ÉTÉ", new[] { "größe", "straße", "été" })]
    [InlineData("  ..!! ", new string[0])]
    public void Tokens_are_lowercased_runs_of_letters_and_digits(string text, string[] expected) =>
        Assert.Equal(expected, TextTokens.Of(text));

    [Fact]
    public void A_run_longer_than_the_limit_is_split()
    {
        var tokens = TextTokens.Of(new string('a', TextTokens.MaxLength + 10));
        Assert.Equal([TextTokens.MaxLength, 10], tokens.Select(t => t.Length));
    }

    [Theory]
    [InlineData("GET /api/v1/orders 200 9.2ms")]
    [InlineData("Größe: Straße—ÉTÉ İstanbul ΣΊΣΥΦΟΣ")]
    [InlineData("ab😀cd 日本語テキスト ١٢٣")]
    [InlineData("x")]
    [InlineData("")]
    public void Utf8_text_gives_the_tokens_of_the_same_string(string text)
    {
        var fromBytes = new TextTokens.RowTokens();
        fromBytes.Add(System.Text.Encoding.UTF8.GetBytes(text));
        Assert.Equal(TextTokens.Of(text), fromBytes.ToStrings());
        var longRun = new string('Q', TextTokens.MaxLength * 2 + 3) + " tail";
        fromBytes.Clear();
        fromBytes.Add(System.Text.Encoding.UTF8.GetBytes(longRun));
        Assert.Equal(TextTokens.Of(longRun), fromBytes.ToStrings());
    }

    [Fact]
    public void Invalid_utf8_separates_tokens()
    {
        var row = new TextTokens.RowTokens();
        row.Add([(byte)'a', (byte)'b', 0xFF, (byte)'c']);
        Assert.Equal(["ab", "c"], row.ToStrings());
    }

    [Fact]
    public void A_row_collects_the_tokens_of_all_its_fields()
    {
        var row = new TextTokens.RowTokens();
        row.Add("Payment FAILED");
        row.Add("timeout");
        Assert.Equal(["payment", "failed", "timeout"], row.ToStrings());
        row.Clear();
        Assert.Equal(0, row.Count);
    }
}
