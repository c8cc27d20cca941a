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
