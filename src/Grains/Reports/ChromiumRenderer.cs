using System.Diagnostics;
using System.Text;

namespace MoleSignal.Grains.Reports;

/// <summary>
/// PNG and PDF of a report's SVG through headless Chromium (<c>[reports].chromium_path</c>): the SVG is put in a
/// page of exactly its size, which Chromium screenshots and prints. Chromium runs with a fresh profile and no
/// background networking; a run that fails or takes over a minute leaves the SVG alone, with a note.
/// </summary>
public sealed class ChromiumRenderer(string? chromiumPath, string scratchDir)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public bool Available => !string.IsNullOrEmpty(chromiumPath) && File.Exists(chromiumPath);

    /// <returns>The PNG and PDF bytes, or why not.</returns>
    public async Task<(byte[]? Png, byte[]? Pdf, string? Note)> RenderAsync(string svg, int width, int height,
        CancellationToken ct)
    {
        if (!Available)
            return (null, null, string.IsNullOrEmpty(chromiumPath)
                ? "reports.chromium_path is not set: SVG only"
                : $"no Chromium at {chromiumPath}: SVG only");
        var dir = Directory.CreateDirectory(Path.Combine(scratchDir, "report-" + Guid.NewGuid().ToString("N")));
        try
        {
            var page = Path.Combine(dir.FullName, "report.html");
            await File.WriteAllTextAsync(page, $"""
                <!doctype html><html><head><meta charset="utf-8"><style>
                @page {"{"} size: {width}px {height}px; margin: 0 {"}"} html, body {"{"} margin: 0; padding: 0 {"}"}
                svg {"{"} display: block {"}"}</style></head><body>{svg}</body></html>
                """, Encoding.UTF8, ct);
            var png = Path.Combine(dir.FullName, "report.png");
            var pdf = Path.Combine(dir.FullName, "report.pdf");
            var url = new Uri(page).AbsoluteUri;
            var shot = await RunAsync(dir.FullName, [$"--screenshot={png}", $"--window-size={width},{height}", url],
                ct);
            var print = await RunAsync(dir.FullName, [$"--print-to-pdf={pdf}", "--no-pdf-header-footer", url], ct);
            byte[]? pngBytes = File.Exists(png) ? await File.ReadAllBytesAsync(png, ct) : null;
            byte[]? pdfBytes = File.Exists(pdf) ? await File.ReadAllBytesAsync(pdf, ct) : null;
            var note = pngBytes is null || pdfBytes is null ? $"Chromium did not render: {shot ?? print}" : null;
            return (pngBytes, pdfBytes, note);
        }
        finally
        {
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a leftover scratch directory is harmless
            }
        }
    }

    /// <returns>Null when Chromium exited 0, else why not.</returns>
    private async Task<string?> RunAsync(string dir, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(chromiumPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", $"--user-data-dir={Path.Combine(dir, "profile")}", .. args])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException("Chromium did not start");
        var stderr = p.StandardError.ReadToEndAsync(ct);
        _ = p.StandardOutput.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            if (ct.IsCancellationRequested) throw;
            return "Chromium took over a minute";
        }
        var err = await stderr;
        return p.ExitCode == 0 ? null : $"exit {p.ExitCode}: {err[..Math.Min(err.Length, 300)]}";
    }
}
