using System.Net.Http.Json;
using System.Text.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;

namespace MoleSignal.Tests.Support;

/// <summary>What a node holds, read through its API and straight from its SQLite metadata and local objects.</summary>
public static class NodeQueries
{
    public static async Task<JsonElement?> StreamAsync(HttpClient http, string stream, string org = "default")
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/streams");
        req.Headers.Add("X-Org-Id", org);
        using var resp = await http.SendAsync(req);
        resp.EnsureSuccessStatusCode();
        var doc = await resp.Content.ReadFromJsonAsync<JsonElement>();
        foreach (var s in doc.GetProperty("streams").EnumerateArray())
            if (s.GetProperty("name").GetString() == stream) return s;
        return null;
    }

    /// <summary>Posts NDJSON lines in bodies of <paramref name="perRequest"/> lines; every record must be accepted.</summary>
    public static async Task IngestAsync(HttpClient http, string stream, IReadOnlyList<string> lines, int perRequest)
    {
        foreach (var chunk in lines.Chunk(perRequest))
        {
            var content = new StringContent(string.Join("\n", chunk));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
            using var resp = await http.PostAsync($"/api/v1/ingest/{stream}", content);
            Assert.Equal(System.Net.HttpStatusCode.OK, resp.StatusCode);
        }
    }

    /// <summary>Each query's rows as raw JSON, in order (as root): answers to compare before and after a change.</summary>
    public static async Task<List<string>> RowsAsync(HttpClient http, IEnumerable<string> sqls)
    {
        var answers = new List<string>();
        foreach (var sql in sqls)
            answers.Add((await AuthApi.SendAsync(http, HttpMethod.Post, "/api/v1/query", new { sql }))
                .GetProperty("rows").GetRawText());
        return answers;
    }

    /// <summary>One query's rows as raw JSON, in <paramref name="org"/> (as the node's client, root).</summary>
    public static async Task<string> SqlAsync(HttpClient http, string sql, string org = "default")
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/query")
        {
            Content = JsonContent.Create(new { sql }),
        };
        req.Headers.Add("X-Org-Id", org);
        using var resp = await http.SendAsync(req);
        var body = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("rows").GetRawText();
    }

    public static async Task<long> RecordsAsync(HttpClient http, string stream, string org = "default") =>
        (await StreamAsync(http, stream, org))?.GetProperty("records").GetInt64() ?? 0;

    public static async Task<IReadOnlyList<FileMeta>> FilesAsync(string workDir, string stream, string org = "default")
    {
        await using var meta = MetaStore.Sqlite(Path.Combine(workDir, "data", "meta.db"));
        return await new StreamMetaStore(meta).FilesAsync(new StreamKey(org, "logs", stream));
    }

    public static string ObjectPath(string workDir, string key) => Path.Combine(workDir, "data", "objects", key);
}
