using System.Globalization;

namespace MoleSignal.Tests.Support;

/// <summary>One series of a node's Prometheus text.</summary>
public static class NodeMetrics
{
    /// <summary>The value of <paramref name="series"/> (name and labels as printed); 0 when absent.</summary>
    public static double Value(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
        return 0;
    }

    public static async Task<double> ValueAsync(HttpClient http, string series) =>
        Value(await http.GetStringAsync("/metrics"), series);
}
