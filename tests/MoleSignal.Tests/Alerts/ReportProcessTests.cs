using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using MoleSignal.Tests.Processes;
using MoleSignal.Tests.Support;

namespace MoleSignal.Tests.Alerts;

/// <summary>
/// Scheduled reports of the binary: a run renders its queries as an SVG holding their series, stored and sent by
/// email with the files attached; with Debian's Chromium the PNG is an image of the chart's size and the PDF a
/// PDF, without it the run is SVG only and says why.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ReportProcessTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_report_run_is_rendered_stored_and_mailed(bool withChromium)
    {
        if (withChromium && !File.Exists(Chromium)) return; // .ci/run installs it; the SVG case still runs
        using var smtp = new SmtpReceiver();
        using var node = MoleSignalNode.Start(new Dictionary<string, string>
        {
            ["MS_REPORTS.TICK_SECS"] = "1", ["MS_ALERT_MANAGER.DISPATCH_INTERVAL_SECS"] = "1",
            ["MS_REPORTS.CHROMIUM_PATH"] = withChromium ? Chromium : "",
        });
        await node.WaitHealthyAsync();
        var http = node.Http;
        // Records in 5 distinct minutes of the last hour, of 2 services.
        var minute0 = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 - 30;
        var lines = Enumerable.Range(0, 50).Select(i => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["_timestamp"] = (minute0 + i % 5) * 60_000_000 + i, ["service"] = i % 2 == 0 ? "api" : "db",
            ["message"] = $"m{i}",
        })).ToList();
        await NodeQueries.IngestAsync(http, "app", lines, 50);
        var mail = (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/destinations", new
        {
            name = "mail", kind = "email",
            email = new
            {
                host = "127.0.0.1", port = smtp.Port, from = "reports@molesignal.test", to = new[] { "team@x.test" },
            },
        }, expect: HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var report = (await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/reports", new
        {
            name = "daily <traffic>", cron = "*/2 * * * * *", range_secs = 3600, destinations = new[] { mail },
            queries = new object[]
            {
                new { title = "per minute", chart = "line",
                    sql = "SELECT _timestamp // 60000000 AS minute, count(*) AS n FROM app GROUP BY 1 ORDER BY 1" },
                new { title = "per service", chart = "bar",
                    sql = "SELECT service, count(*) AS n FROM app GROUP BY 1 ORDER BY 1" },
            },
        }, expect: HttpStatusCode.Created)).GetProperty("id").GetString()!;

        var runs = await Poll.UntilAsync(async () => (await AuthApi.SendAsync(http, HttpMethod.Get,
            $"/api/v1/reports/{report}/runs")).GetProperty("runs"), r => r.GetArrayLength() > 0, Deadline, "a run");
        var run = runs[0];
        Assert.Equal(JsonValueKind.Null, run.GetProperty("error").ValueKind);
        var formats = run.GetProperty("formats").EnumerateArray().Select(f => f.GetString()).ToList();
        var runId = run.GetProperty("id").GetString()!;
        using (var svgResponse = await http.GetAsync($"/api/v1/reports/{report}/runs/{runId}/file?format=svg"))
        {
            Assert.Equal("image/svg+xml", svgResponse.Content.Headers.ContentType?.MediaType);
            var svg = XDocument.Parse(await svgResponse.Content.ReadAsStringAsync());
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "daily <traffic>");
            var line = Assert.Single(svg.Descendants(ns + "polyline"));
            Assert.Equal(("n", "5"), ((string?)line.Attribute("data-series"), (string?)line.Attribute("data-points")));
            Assert.Equal(5, ((string)line.Attribute("points")!).Split(' ').Length);
            var bars = svg.Descendants(ns + "g").Single(g => (string?)g.Attribute("data-points") == "2");
            Assert.Equal(2, bars.Elements(ns + "rect").Count());
        }
        if (withChromium)
        {
            Assert.Equal(["svg", "png", "pdf"], formats);
            var png = await http.GetByteArrayAsync($"/api/v1/reports/{report}/runs/{runId}/file?format=png");
            var (width, height) = PngSize(png);
            Assert.Equal((800, 660), (width, height)); // the header and two panels
            var pdf = await http.GetByteArrayAsync($"/api/v1/reports/{report}/runs/{runId}/file?format=pdf");
            Assert.Equal("%PDF-", System.Text.Encoding.ASCII.GetString(pdf, 0, 5));
        }
        else
        {
            Assert.Equal(["svg"], formats);
            Assert.Contains("chromium_path", run.GetProperty("note").GetString());
            await AuthApi.SendAsync(http, HttpMethod.Get, $"/api/v1/reports/{report}/runs/{runId}/file?format=png",
                expect: HttpStatusCode.NotFound);
        }
        await Poll.UntilAsync(() => !smtp.Messages.IsEmpty, Deadline, "the report mailed");
        var message = smtp.Messages.First();
        Assert.StartsWith("[REPORT] daily <traffic>", message.Subject);
        var attached = message.Attachments.OfType<MimeKit.MimePart>().Select(a => a.FileName![^3..]).ToList();
        Assert.Equal(withChromium ? ["svg", "png", "pdf"] : ["svg"], attached);
    }

    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature and the IEND chunk.</summary>
    private static (int, int) PngSize(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(png, png.Length - 8, 4));
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)),
            System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
