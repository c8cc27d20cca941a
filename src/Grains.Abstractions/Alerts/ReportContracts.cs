namespace MoleSignal.Grains.Abstractions.Alerts;

public enum ChartKind : byte { Line, Bar, Table }

/// <summary>The formats a report run is rendered in.</summary>
public enum ReportFormat : byte { Svg, Png, Pdf }

public static class ReportNames
{
    public static string Of(ChartKind k) => k switch { ChartKind.Line => "line", ChartKind.Bar => "bar", _ => "table" };

    public static bool TryParse(string? s, out ChartKind k)
    {
        k = s switch { "bar" => ChartKind.Bar, "table" => ChartKind.Table, _ => ChartKind.Line };
        return s is "line" or "bar" or "table";
    }

    public static string Of(ReportFormat f) =>
        f switch { ReportFormat.Svg => "svg", ReportFormat.Png => "png", _ => "pdf" };

    public static bool TryParse(string? s, out ReportFormat f)
    {
        f = s switch { "png" => ReportFormat.Png, "pdf" => ReportFormat.Pdf, _ => ReportFormat.Svg };
        return s is "svg" or "png" or "pdf";
    }

    public static string ContentType(ReportFormat f) => f switch
    {
        ReportFormat.Svg => "image/svg+xml",
        ReportFormat.Png => "image/png",
        _ => "application/pdf",
    };
}

/// <summary>One chart of a report: a line (first column on x, each numeric column a series), a bar chart (first
/// column the categories, the first numeric column the bars) or a table.</summary>
public sealed record ReportQuery(string Title, string Sql, ChartKind Chart);

/// <summary>A report runs at each <see cref="Cron"/> occurrence in <see cref="Timezone"/> over the
/// <see cref="RangeSecs"/> before the run.</summary>
public sealed record ReportSpec(string Name, string Cron, string Timezone, IReadOnlyList<ReportQuery> Queries,
    int RangeSecs, IReadOnlyList<string> Destinations, bool Enabled);

public sealed record Report(string Id, string Org, long Version, long UpdatedAtMicros, ReportSpec Spec);

/// <summary>A rendered run: the formats stored, and why PNG/PDF are missing when they are.</summary>
public sealed record ReportRun(string Id, string ReportId, long RunAtMicros, IReadOnlyList<ReportFormat> Formats,
    string? Note, string? Error, long CreatedAtMicros);

public interface IReports
{
    Task<Report> CreateAsync(string org, ReportSpec spec, CancellationToken ct);
    Task<Report> UpdateAsync(string org, string id, ReportSpec spec, CancellationToken ct);
    Task<Report?> GetAsync(string org, string id, CancellationToken ct);
    Task<IReadOnlyList<Report>> ListAsync(string org, CancellationToken ct);
    Task<bool> DeleteAsync(string org, string id, CancellationToken ct);
    Task<IReadOnlyList<ReportRun>> RunsAsync(string org, string id, int limit, CancellationToken ct);
    /// <summary>The stored file of a run in a format, or null.</summary>
    Task<byte[]?> FileAsync(string org, string id, string runId, ReportFormat format, CancellationToken ct);
}
