using System.Collections.Concurrent;
using System.Net;

namespace MoleSignal.Tests.Support;

/// <summary>
/// A real HTTP server on loopback (HttpListener) that records every request it gets: its Idempotency-Key, body and
/// the status it answered. It can refuse the first requests with 500, or hold one request open until released.
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    public sealed record Hit(string? Key, string Body, int Status);

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private int _failuresLeft;
    private TaskCompletionSource? _hold;

    public WebhookReceiver(int failFirst = 0)
    {
        _failuresLeft = failFirst;
        Port = Ports.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    public ConcurrentQueue<Hit> Hits { get; } = new();

    /// <summary>Requests answered 2xx.</summary>
    public List<Hit> Delivered => Hits.Where(h => h.Status == 200).ToList();

    /// <summary>From now on the next request is held (no answer) until <see cref="Release"/>.</summary>
    public void HoldNext() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Held { get; private set; }

    public void Release() => _hold?.TrySetResult();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(ctx));
        }
    }

    private async Task AnswerAsync(HttpListenerContext ctx)
    {
        try
        {
            using var reader = new StreamReader(ctx.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var key = ctx.Request.Headers["Idempotency-Key"];
            if (Interlocked.Exchange(ref _hold, null) is { } hold)
            {
                Held++;
                Hits.Enqueue(new Hit(key, body, 0));
                await hold.Task;
                ctx.Response.Abort();
                return;
            }
            var status = Interlocked.Decrement(ref _failuresLeft) >= 0 ? 500 : 200;
            Hits.Enqueue(new Hit(key, body, status));
            ctx.Response.StatusCode = status;
            ctx.Response.Close();
        }
        catch (Exception)
        {
            // The client went away (a killed node): nothing to answer.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        Release();
        _listener.Close();
    }
}
