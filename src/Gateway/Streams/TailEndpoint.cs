using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using MoleSignal.Gateway.Auth;
using MoleSignal.Gateway.Errors;
using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Abstractions.Tail;

namespace MoleSignal.Gateway.Streams;

/// <summary>
/// <c>GET /api/v1/streams/{stream}/tail?filter=words</c>: the stream's records as NDJSON as its ingester
/// acknowledges them (pushed from its buffer, no polling), those holding every word of <c>filter</c> (in any case),
/// until the client goes. A tail that reads slower than records come loses whole batches rather than slowing
/// ingest: a line <c>{"_tail":{"dropped":N}}</c> says how many records it missed. A blank line every
/// <see cref="TailLimits.Renew"/> of quiet keeps proxies from closing it.
/// </summary>
public static class TailEndpoint
{
    /// <summary>Batches a tail holds for its reader before it drops.</summary>
    private const int Backlog = 64;

    public static IEndpointRouteBuilder MapTail(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/streams/{stream}/tail", Tail).Requires(Permission.Read);
        return app;
    }

    private static async Task Tail(string stream, HttpContext ctx, IGrainFactory grains)
    {
        if (StreamEndpoints.Key(ctx.Request, stream) is not { } key)
        {
            await ErrorHandling.WriteAsync(ctx, 400, "invalid_stream", StreamEndpoints.InvalidStreamMessage);
            return;
        }
        var words = Words(ctx.Request.Query["filter"].FirstOrDefault());
        var grain = grains.GetGrain<IStreamGrain>(key.GrainKey);
        var tail = new Subscriber();
        var reference = grains.CreateObjectReference<ITailObserver>(tail);
        try
        {
            if (!await grain.Tail(reference))
            {
                await ErrorHandling.WriteAsync(ctx, 429, "too_many_tails",
                    $"stream '{key.Stream}' already feeds {TailLimits.SubscribersPerStream} live tails; close one");
                return;
            }
            ctx.Response.ContentType = "application/x-ndjson";
            ctx.Response.Headers.CacheControl = "no-cache";
            ctx.Response.Headers["X-Accel-Buffering"] = "no";
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            await Pump(ctx, tail, words, grain, reference);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            await grain.Untail(reference);
            grains.DeleteObjectReference<ITailObserver>(reference);
        }
    }

    private static async Task Pump(HttpContext ctx, Subscriber tail, byte[][] words, IStreamGrain grain,
        ITailObserver reference)
    {
        var ct = ctx.RequestAborted;
        var body = ctx.Response.Body;
        var renewed = TimeProvider.System.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            // Renewed well before the stream's feed lets it expire, however busy the stream is.
            if (TimeProvider.System.GetElapsedTime(renewed) >= TailLimits.Renew)
            {
                await grain.Tail(reference);
                renewed = TimeProvider.System.GetTimestamp();
            }
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
            quiet.CancelAfter(TailLimits.Renew);
            TailRecords records;
            try
            {
                records = await tail.Batches.ReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await body.WriteAsync("\n"u8.ToArray(), ct);
                await body.FlushAsync(ct);
                continue;
            }
            if (Interlocked.Exchange(ref tail.Dropped, 0) is var dropped and > 0)
                await body.WriteAsync(Encoding.UTF8.GetBytes($"{{\"_tail\":{{\"dropped\":{dropped}}}}}\n"), ct);
            await body.WriteAsync(Matching(records.Ndjson, words), ct);
            if (tail.Batches.Count == 0) await body.FlushAsync(ct);
        }
    }

    /// <summary>The lines holding every word (ASCII case folded), as one block.</summary>
    private static ReadOnlyMemory<byte> Matching(byte[] ndjson, byte[][] words)
    {
        if (words.Length == 0) return ndjson;
        using var kept = new MemoryStream();
        var rest = ndjson.AsSpan();
        while (rest.Length > 0)
        {
            var end = rest.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..(end + 1)];
            rest = rest[line.Length..];
            var all = true;
            foreach (var w in words)
                if (!Contains(line, w))
                {
                    all = false;
                    break;
                }
            if (all) kept.Write(line);
        }
        return kept.ToArray();
    }

    private static bool Contains(ReadOnlySpan<byte> line, byte[] lowerWord)
    {
        for (var i = 0; i + lowerWord.Length <= line.Length; i++)
        {
            var j = 0;
            while (j < lowerWord.Length && Lower(line[i + j]) == lowerWord[j]) j++;
            if (j == lowerWord.Length) return true;
        }
        return false;
    }

    private static byte Lower(byte c) => (uint)(c - 'A') <= 'Z' - 'A' ? (byte)(c | 0x20) : c;

    private static byte[][] Words(string? filter) => (filter ?? "")
        .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Take(16).Select(w => Encoding.UTF8.GetBytes(w.ToLowerInvariant())).ToArray();

    /// <summary>One tail's end: batches wait in a bounded queue; when it is full a batch is counted, not kept.
    /// </summary>
    private sealed class Subscriber : ITailObserver
    {
        private readonly Channel<TailRecords> _batches = Channel.CreateBounded<TailRecords>(
            new BoundedChannelOptions(Backlog) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public int Dropped;

        public ChannelReader<TailRecords> Batches => _batches.Reader;

        public Task OnRecords(TailRecords records)
        {
            if (!_batches.Writer.TryWrite(records)) Interlocked.Add(ref Dropped, records.Count);
            return Task.CompletedTask;
        }
    }
}
