using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MoleSignal.Tests.Support;

/// <summary>The account and tenancy calls the tests make, as root unless a client says otherwise.</summary>
public static class AuthApi
{
    public static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path,
        object? body = null,
        AuthenticationHeaderValue? auth = null, string? org = null, HttpStatusCode expect = HttpStatusCode.OK)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body is not null) req.Content = JsonContent.Create(body);
        if (auth is not null) req.Headers.Authorization = auth;
        if (org is not null) req.Headers.Add("X-Org-Id", org);
        using var resp = await http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        Assert.True(resp.StatusCode == expect,
            $"{method} {path}: expected {(int)expect}, got {(int)resp.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task CreateOrgAsync(HttpClient http, string org) =>
        SendAsync(http, HttpMethod.Post, "/api/v1/orgs", new { org }, expect: HttpStatusCode.Created);

    public static Task AddMemberAsync(HttpClient http, string org, string email, string role, string password) =>
        SendAsync(http, HttpMethod.Post, $"/api/v1/orgs/{org}/members", new { email, role, password },
            expect: HttpStatusCode.Created);

    /// <summary>A service token of <paramref name="org"/>; returns (id, token).</summary>
    public static async Task<(string Id, string Token)> ServiceTokenAsync(HttpClient http, string org, string role,
        long? expiresInSecs = null)
    {
        var r = await SendAsync(http, HttpMethod.Post, "/api/v1/tokens",
            new { name = "t-" + role, org, role, expires_in_secs = expiresInSecs }, expect: HttpStatusCode.Created);
        return (r.GetProperty("info").GetProperty("id").GetString()!, r.GetProperty("token").GetString()!);
    }

    public static async Task<string> LoginAsync(HttpClient http, string email, string password)
    {
        var r = await SendAsync(http, HttpMethod.Post, "/api/v1/auth/login", new { email, password });
        return r.GetProperty("token").GetString()!;
    }

    /// <summary>A client of the node that sends no credentials unless a request carries them.</summary>
    public static HttpClient Anonymous(MoleSignalNode node) =>
        new() { BaseAddress = node.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    public static async Task<HttpStatusCode> StatusAsync(HttpClient http, HttpMethod method, string path,
        AuthenticationHeaderValue? auth, string? org = null, HttpContent? content = null)
    {
        using var req = new HttpRequestMessage(method, path) { Content = content };
        if (auth is not null) req.Headers.Authorization = auth;
        if (org is not null) req.Headers.Add("X-Org-Id", org);
        using var resp = await http.SendAsync(req);
        return resp.StatusCode;
    }
}
