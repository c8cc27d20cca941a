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

    [Fact]
    public void Ascii_text_gives_the_tokens_the_general_path_gives()
    {
        // A trailing em dash (a separator, not ASCII) sends the same text down the rune-by-rune path.
        var random = new Random(5);
        const string alphabet = "aZ09 -_./:!xyzQW\t";
        foreach (var length in new[] { 0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 300, 700 })
            for (var round = 0; round < 20; round++)
            {
                var chars = new char[length];
                for (var i = 0; i < length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
                if (round % 4 == 0 && length > 10) chars.AsSpan(random.Next(length / 2)).Fill('k'); // runs past 255 and past blocks
                var text = new string(chars);
                var ascii = new TextTokens.RowTokens();
                ascii.Add(System.Text.Encoding.UTF8.GetBytes(text));
                var general = new TextTokens.RowTokens();
                general.Add(System.Text.Encoding.UTF8.GetBytes(text + "\u2014"));
                Assert.Equal(general.ToStrings(), ascii.ToStrings());
            }
    }
}
