using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Startup;

/// <summary>
/// Commands that talk to the node running beside them on 127.0.0.1:[http].port, so an image needs no curl:
/// <c>healthcheck</c> (a container HEALTHCHECK) and <c>drain</c> (an ingester's preStop hook).
/// </summary>
public static class NodeCommands
{
    private static HttpClient Client(MoleSignalConfig config, TimeSpan timeout) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{config.Http.Port}"), Timeout = timeout };

    public static async Task<int> HealthcheckAsync(MoleSignalConfig config)
    {
        using var http = Client(config, TimeSpan.FromSeconds(5));
        try
        {
            using var resp = await http.GetAsync("/healthz");
            if (resp.IsSuccessStatusCode) return 0;
            await Console.Error.WriteLineAsync($"molesignal healthcheck: /healthz {(int)resp.StatusCode} " +
                                               await resp.Content.ReadAsStringAsync());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"molesignal healthcheck: {e.Message}");
        }
        return 1;
    }

    /// <summary>Starts the drain and waits (up to 30 min) until it is done (0) or failed (1).</summary>
    public static async Task<int> DrainAsync(MoleSignalConfig config)
    {
        using var http = Client(config, TimeSpan.FromSeconds(30));
        var user = config.Secrets.RootUserEmail ?? "root@localhost";
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{config.Secrets.RootUserPassword}")));
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(30);
        try
        {
            using (var start = await http.PostAsync("/api/v1/node/drain", null))
                if (!start.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"molesignal drain: {(int)start.StatusCode} {await start.Content.ReadAsStringAsync()}");
                    return 1;
                }
            while (DateTime.UtcNow < until)
            {
                var status = JsonDocument.Parse(await http.GetStringAsync("/api/v1/node/drain")).RootElement;
                var state = status.GetProperty("state").GetString();
                if (state == "done")
                {
                    Console.WriteLine("molesignal drain: done");
                    return 0;
                }
                if (state == "failed")
                {
                    await Console.Error.WriteLineAsync($"molesignal drain: failed: {status.GetProperty("error")}");
                    return 1;
                }
                await Task.Delay(500);
            }
            await Console.Error.WriteLineAsync("molesignal drain: not done after 30 minutes");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"molesignal drain: {e.Message}");
        }
        return 1;
    }
}
