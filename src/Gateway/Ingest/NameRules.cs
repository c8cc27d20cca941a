using System.Text.RegularExpressions;

namespace MoleSignal.Gateway.Ingest;

/// <summary>Org and stream names become WAL paths and object keys: only this shape gets through.</summary>
public static partial class NameRules
{
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,127}$")]
    private static partial Regex Valid();

    /// <summary>The lowercased name, or null when it is not a valid org/stream name.</summary>
    public static string? Normalize(string? name)
    {
        if (string.IsNullOrEmpty(name)) return null;
        var lower = name.ToLowerInvariant();
        return Valid().IsMatch(lower) ? lower : null;
    }

    /// <summary>The stream of a Prometheus metric name (<c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>): lowercased, ':' as '_',
    /// leading '_' dropped; null when nothing valid is left.</summary>
    public static string? FromMetricName(string metric) =>
        Normalize(metric.Replace(':', '_').TrimStart('_'));
}
