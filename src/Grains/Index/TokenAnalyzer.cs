using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Analysis.Util;
using Lucene.Net.Util;

namespace MoleSignal.Grains.Index;

/// <summary>
/// The full-text analyzer of sidecars and of match_all(): tokens are runs of letters and digits, lowercased
/// (<c>xyzzy-42</c> is <c>xyzzy</c> and <c>42</c>; <c>/api/v1/orders</c> is <c>api</c>, <c>v1</c>, <c>orders</c>).
/// Several times faster than StandardAnalyzer on log text, and it keeps every word (no stop words).
/// </summary>
public sealed class TokenAnalyzer : Analyzer
{
    protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader)
    {
        var tokenizer = new AlphanumericTokenizer(reader);
        return new TokenStreamComponents(tokenizer, new LowerCaseFilter(LuceneVersion.LUCENE_48, tokenizer));
    }

    private sealed class AlphanumericTokenizer(TextReader input) : CharTokenizer(LuceneVersion.LUCENE_48, input)
    {
        protected override bool IsTokenChar(int c) => c < 128 ? char.IsAsciiLetterOrDigit((char)c) : char.IsLetterOrDigit((char)c);
    }
}
