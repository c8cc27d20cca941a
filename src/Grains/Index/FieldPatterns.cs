namespace MoleSignal.Grains.Index;

/// <summary>Field lists with a trailing '*' wildcard (<c>error_*</c>), as the full-text and id field settings use.</summary>
public sealed class FieldPatterns(IEnumerable<string> patterns)
{
    private readonly string[] _exact = patterns.Where(p => !p.EndsWith('*')).ToArray();
    private readonly string[] _prefixes = patterns.Where(p => p.EndsWith('*')).Select(p => p[..^1]).ToArray();

    public bool Matches(string field) =>
        _exact.Contains(field) || _prefixes.Any(p => field.StartsWith(p, StringComparison.Ordinal));
}
