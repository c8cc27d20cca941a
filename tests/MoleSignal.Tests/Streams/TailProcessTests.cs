using System.Net;
using System.Text.Json;
using MoleSignal.Tests.Processes;

namespace MoleSignal.Tests.Streams;

/// <summary>Live tail on a real node: records acknowledged after the tail opened arrive on it, filtered by words;
/// a stream feeds a bounded number of tails; the tail needs a reader of the org.</summary>
[Collection(ProcessCollection.Name)]
public sealed class TailProcessTests
{
    private static async Task<(HttpResponseMessage Response, StreamReader Lines)> OpenAsync(HttpClient http,
        string path)
    {
        var resp = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path),
            HttpCompletionOption.ResponseHeadersRead);
        return (resp, new StreamReader(await resp.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next record line (blank keep-alive lines skipped), within a deadline.</summary>
    private static async Task<JsonElement> NextAsync(StreamReader lines)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await lines.ReadLineAsync(deadline.Token) ?? throw new EndOfStreamException();
            if (line.Length > 0) return JsonDocument.Parse(line).RootElement.Clone();
        }
    }

    private static string Record(string message, string level) =>
        JsonSerializer.Serialize(new { level, message, n = 7 });

    [Fact]
    public async Task Records_acknowledged_after_the_tail_opened_arrive_with_only_those_holding_its_words()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        await NodeQueries.IngestAsync(node.Http, "web", [Record("before the tail", "INFO")], 1);
        var (resp, lines) = await OpenAsync(node.Http, "/api/v1/streams/web/tail?filter=Checkout%20FAILED");
        using (resp)
        {
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            Assert.Equal("application/x-ndjson", resp.Content.Headers.ContentType?.MediaType);
            await NodeQueries.IngestAsync(node.Http, "web",
                [Record("checkout ok", "INFO"), Record("checkout failed: card declined", "ERROR")], 2);
            var first = await NextAsync(lines);
            Assert.Equal("checkout failed: card declined", first.GetProperty("message").GetString());
            Assert.Equal("ERROR", first.GetProperty("level").GetString());
            Assert.Equal(7, first.GetProperty("n").GetInt64());
            Assert.True(first.GetProperty("_timestamp").GetInt64() > 0);
            // A later batch arrives too: the tail stays open.
            await NodeQueries.IngestAsync(node.Http, "web", [Record("CHECKOUT FAILED again", "ERROR")], 1);
            Assert.Equal("CHECKOUT FAILED again", (await NextAsync(lines)).GetProperty("message").GetString());
        }
        // The node goes on serving once the tail is gone.
        Assert.Equal("[[4]]", await NodeQueries.SqlAsync(node.Http, "SELECT count(*) FROM web"));
    }

    [Fact]
    public async Task A_stream_feeds_a_bounded_number_of_tails_and_a_tail_needs_a_reader()
    {
        using var node = MoleSignalNode.Start();
        await node.WaitHealthyAsync();
        var open = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var (resp, _) = await OpenAsync(node.Http, "/api/v1/streams/busy/tail");
                open.Add(resp);
                Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            }
            var (refused, body) = await OpenAsync(node.Http, "/api/v1/streams/busy/tail");
            using (refused)
            {
                Assert.Equal((HttpStatusCode)429, refused.StatusCode);
                Assert.Contains("\"error\":\"too_many_tails\"", await body.ReadToEndAsync());
            }
        }
        finally
        {
            foreach (var r in open) r.Dispose();
        }
        // A closed tail frees its place (the next one is fed again).
        var again = await Poll.UntilAsync(async () =>
        {
            var (resp, _) = await OpenAsync(node.Http, "/api/v1/streams/busy/tail");
            resp.Dispose();
            return resp.StatusCode;
        }, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "a tail after the others closed");
        Assert.Equal(HttpStatusCode.OK, again);

        using var anon = AuthApi.Anonymous(node);
        using var refusedAnon = await anon.GetAsync("/api/v1/streams/busy/tail");
        Assert.Equal(HttpStatusCode.Unauthorized, refusedAnon.StatusCode);
        var (bad, _) = await OpenAsync(node.Http, "/api/v1/streams/Bad%20Name/tail");
        using (bad) Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
