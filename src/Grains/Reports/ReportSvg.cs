using System.Globalization;
using System.Security;
using System.Text;
using MoleSignal.Grains.Abstractions.Alerts;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Reports;

/// <summary>The rows of one report query, as read (at most <see cref="ReportRunner.MaxRows"/>).</summary>
public sealed record ChartData(ReportQuery Query, IReadOnlyList<QueryColumn> Columns, IReadOnlyList<object?[]> Rows,
    string? Error);

/// <summary>
/// Renders a report as one SVG document: a header, then a panel per query (line, bar or table). Every text is
/// escaped; each series carries <c>data-series</c> and <c>data-points</c> so a reader can check it without
/// pixels. The SVG is the format always available; Chromium turns it into PNG and PDF.
/// </summary>
public static class ReportSvg
{
    public const int Width = 800, PanelHeight = 300, HeaderHeight = 60, TableRows = 20;
    private const int Left = 60, Right = 20, Top = 30, Bottom = 40;
    private static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

    public static int Height(int panels) => HeaderHeight + panels * PanelHeight;

    public static string Render(string name, long from, long to, IReadOnlyList<ChartData> charts)
    {
        var sb = new StringBuilder(16 * 1024);
        sb.Append(CultureInfo.InvariantCulture, $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height(charts.Count)}"
                viewBox="0 0 {Width} {Height(charts.Count)}" font-family="sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="{Left}" y="28" font-size="20">{Esc(name)}</text>
            <text x="{Left}" y="48" font-size="12" fill="#555">{Time(from)} – {Time(to)} UTC</text>

            """);
        for (var i = 0; i < charts.Count; i++)
        {
            var y0 = HeaderHeight + i * PanelHeight;
            var c = charts[i];
            sb.Append(CultureInfo.InvariantCulture,
                $"""<g class="panel" data-chart="{ReportNames.Of(c.Query.Chart)}" transform="translate(0,{y0})">""");
            sb.Append(CultureInfo.InvariantCulture,
                $"""<text x="{Left}" y="18" font-size="14">{Esc(c.Query.Title)}</text>""");
            if (c.Error is not null)
                sb.Append(CultureInfo.InvariantCulture,
                    $"""<text x="{Left}" y="60" font-size="12" fill="#c00">{Esc(c.Error)}</text>""");
            else if (c.Query.Chart == ChartKind.Table) Table(sb, c);
            else if (c.Query.Chart == ChartKind.Bar) Bars(sb, c);
            else Lines(sb, c);
            sb.Append("</g>\n");
        }
        return sb.Append("</svg>\n").ToString();
    }

    private static void Lines(StringBuilder sb, ChartData c)
    {
        var series = NumericColumns(c, from: 1);
        var xs = c.Rows.Select((r, i) => c.Columns.Count > 0 && Number(r[0]) is { } x ? x : i).ToArray();
        var all = series.SelectMany(s => c.Rows.Select(r => Number(r[s]))).OfType<double>().ToList();
        Axes(sb, all.Count == 0 ? 0 : Math.Min(0, all.Min()), all.Count == 0 ? 1 : all.Max(), out var yMin,
            out var yMax);
        double xMin = xs.Length == 0 ? 0 : xs.Min(), xMax = xs.Length == 0 ? 1 : xs.Max();
        for (var k = 0; k < series.Count; k++)
        {
            var col = series[k];
            var points = new StringBuilder();
            var n = 0;
            for (var i = 0; i < c.Rows.Count; i++)
            {
                if (Number(c.Rows[i][col]) is not { } v) continue;
                points.Append(CultureInfo.InvariantCulture, $"{X(xs[i], xMin, xMax):0.#},{Y(v, yMin, yMax):0.#} ");
                n++;
            }
            var color = Colors[k % Colors.Length];
            sb.Append(CultureInfo.InvariantCulture,
                $"""<polyline data-series="{Esc(c.Columns[col].Name)}" data-points="{n}" fill="none" """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""stroke="{color}" stroke-width="2" points="{points.ToString().TrimEnd()}"/>""");
            sb.Append(CultureInfo.InvariantCulture,
                $"""<text x="{Width - Right - 150}" y="{Top + 14 * k + 10}" font-size="11" """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""fill="{color}">{Esc(c.Columns[col].Name)}</text>""");
        }
    }

    private static void Bars(StringBuilder sb, ChartData c)
    {
        var series = NumericColumns(c, from: 1);
        if (series.Count == 0) return;
        var col = series[0];
        var values = c.Rows.Select(r => Number(r[col]) ?? 0).ToArray();
        Axes(sb, Math.Min(0, values.DefaultIfEmpty(0).Min()), values.DefaultIfEmpty(1).Max(), out var yMin,
            out var yMax);
        var plot = Width - Left - Right;
        var w = values.Length == 0 ? 0 : plot / (double)values.Length;
        sb.Append(CultureInfo.InvariantCulture,
            $"""<g data-series="{Esc(c.Columns[col].Name)}" data-points="{values.Length}">""");
        for (var i = 0; i < values.Length; i++)
        {
            var top = Y(Math.Max(values[i], 0), yMin, yMax);
            var bottom = Y(Math.Min(values[i], 0), yMin, yMax);
            sb.Append(CultureInfo.InvariantCulture,
                $"""<rect x="{Left + i * w + w * 0.1:0.#}" y="{top:0.#}" width="{w * 0.8:0.#}" """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""height="{bottom - top:0.#}" fill="{Colors[0]}"><title>{Esc(Text(c.Rows[i][0]))}: """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""{values[i].ToString(CultureInfo.InvariantCulture)}</title></rect>""");
            if (values.Length > 20) continue;
            sb.Append(CultureInfo.InvariantCulture,
                $"""<text x="{Left + i * w + w / 2:0.#}" y="{PanelHeight - Bottom + 14}" font-size="10" """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""text-anchor="middle">{Esc(Text(c.Rows[i][0]))}</text>""");
        }
        sb.Append("</g>");
    }

    private static void Table(StringBuilder sb, ChartData c)
    {
        var colWidth = (Width - Left - Right) / Math.Max(1, c.Columns.Count);
        for (var j = 0; j < c.Columns.Count; j++)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"""<text x="{Left + j * colWidth}" y="{Top + 12}" font-size="12" """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""font-weight="bold">{Esc(c.Columns[j].Name)}</text>""");
        }
        var shown = Math.Min(TableRows, c.Rows.Count);
        sb.Append(CultureInfo.InvariantCulture, $"""<g data-series="rows" data-points="{shown}">""");
        for (var i = 0; i < shown; i++)
        for (var j = 0; j < c.Columns.Count; j++)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"""<text x="{Left + j * colWidth}" y="{Top + 12 + 12 * (i + 1)}" """);
            sb.Append(CultureInfo.InvariantCulture,
                $"""font-size="11">{Esc(Clip(Text(c.Rows[i][j])))}</text>""");
        }
        sb.Append("</g>");
        if (c.Rows.Count > shown)
            sb.Append(CultureInfo.InvariantCulture,
                $"""<text x="{Left}" y="{PanelHeight - 8}" font-size="11" fill="#555">{shown} of {c.Rows.Count}""")
                .Append(" rows</text>");
    }

    private static void Axes(StringBuilder sb, double min, double max, out double yMin, out double yMax)
    {
        yMin = min;
        yMax = max <= min ? min + 1 : max;
        int x0 = Left, x1 = Width - Right, y1 = PanelHeight - Bottom;
        sb.Append(CultureInfo.InvariantCulture,
            $"""<line x1="{x0}" y1="{Top}" x2="{x0}" y2="{y1}" stroke="#999"/><line x1="{x0}" y1="{y1}" x2="{x1}" """);
        sb.Append(CultureInfo.InvariantCulture,
            $"""y2="{y1}" stroke="#999"/>""");
        sb.Append(CultureInfo.InvariantCulture,
            $"""<text x="{x0 - 6}" y="{Top + 4}" font-size="10" text-anchor="end">{yMax:G4}</text><text """);
        sb.Append(CultureInfo.InvariantCulture,
            $"""x="{x0 - 6}" y="{y1}" font-size="10" text-anchor="end">{yMin:G4}</text>""");
    }

    private static double X(double x, double min, double max) =>
        Left + (max == min ? 0.5 : (x - min) / (max - min)) * (Width - Left - Right);

    private static double Y(double v, double min, double max) =>
        PanelHeight - Bottom - (v - min) / (max - min) * (PanelHeight - Bottom - Top);

    private static List<int> NumericColumns(ChartData c, int from)
    {
        var list = new List<int>();
        for (var j = from; j < c.Columns.Count; j++)
            if (c.Rows.Any(r => Number(r[j]) is not null)) list.Add(j);
        return list;
    }

    private static double? Number(object? v) => v switch
    {
        long l => l,
        int i => i,
        double d when double.IsFinite(d) => d,
        float f when float.IsFinite(f) => f,
        decimal m => (double)m,
        DateTime t => (t.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds,
        _ => null,
    };

    private static string Text(object? v) => v switch
    {
        null => "",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string Clip(string s) => s.Length <= 40 ? s : s[..39] + "…";

    private static string Time(long micros) =>
        DateTimeOffset.FromUnixTimeMilliseconds(micros / 1000)
            .ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Esc(string s) => SecurityElement.Escape(s) ?? "";
}
