using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Gateway.Ingest.Syslog;

/// <summary>The <c>[syslog]</c> keys: where to listen (a port of 0 is off) and the stream every message goes
/// to.</summary>
public sealed record SyslogOptions(string Bind, int TcpPort, int UdpPort, string Org, string Stream,
    int MaxMessageBytes);

/// <summary>
/// Syslog over TCP and UDP into one logs stream. A TCP connection's frames are appended a read at a time, and the
/// next read waits for the WAL: backpressure or a full buffer slow the sender through TCP, nothing is dropped. UDP
/// has no way to push back: datagrams arriving while the stream refuses are dropped and counted.
/// </summary>
public sealed class SyslogListener(SyslogOptions options, IngestPipeline pipeline, TimeProvider clock,
    ILogger<SyslogListener> log) : BackgroundService
{
    private static readonly Prometheus.Counter Messages = Prometheus.Metrics.CreateCounter(
        "syslog_messages_total", "Syslog messages written to the stream.", "transport");

    private static readonly Prometheus.Counter Dropped = Prometheus.Metrics.CreateCounter(
        "syslog_dropped_total", "Syslog messages not written (rejected, refused by a quota or the WAL, bad framing).",
        "transport", "reason");

    // Open TCP connections are bounded: each holds a frame-sized buffer. Past the bound a new one is closed.
    private const int MaxConnections = 1024;

    private int _connections;

    private const int ReadBufferBytes = 256 * 1024;

    private IngestTarget Target => new(options.Org, StreamKey.Logs, options.Stream);

    protected override Task ExecuteAsync(CancellationToken stopping)
    {
        var runs = new List<Task>();
        var address = IPAddress.Parse(options.Bind);
        if (options.TcpPort > 0) runs.Add(TcpAsync(new IPEndPoint(address, options.TcpPort), stopping));
        if (options.UdpPort > 0) runs.Add(UdpAsync(new IPEndPoint(address, options.UdpPort), stopping));
        return Task.WhenAll(runs);
    }

    private async Task TcpAsync(IPEndPoint endpoint, CancellationToken stopping)
    {
        using var listener = new TcpListener(endpoint);
        listener.Start();
        log.LogInformation("syslog listening on tcp {Endpoint}", endpoint);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stopping);
                if (Interlocked.Increment(ref _connections) > MaxConnections)
                {
                    Interlocked.Decrement(ref _connections);
                    Dropped.WithLabels("tcp", "connections").Inc();
                    client.Dispose();
                    continue;
                }
                _ = ConnectionAsync(client, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ConnectionAsync(TcpClient client, CancellationToken stopping)
    {
        using var _ = client;
        var stream = client.GetStream();
        // Room for one whole frame of the largest size and its length prefix, and for many frames: what arrives
        // while an append waits for the WAL goes into the next append, so a busy sender makes few large appends.
        var buffer = new byte[Math.Max(options.MaxMessageBytes + 16, ReadBufferBytes)];
        var filled = 0;
        var frames = new List<Range>();
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(filled), stopping);
                if (n == 0) break;
                filled += n;
                var offset = 0;
                frames.Clear();
                while (true)
                {
                    var result = SyslogFraming.Next(buffer.AsSpan(offset, filled - offset), options.MaxMessageBytes,
                        out var frame, out var consumed);
                    if (result == SyslogFraming.Result.Incomplete) break;
                    if (result == SyslogFraming.Result.Bad)
                    {
                        Dropped.WithLabels("tcp", "framing").Inc();
                        await WriteAsync("tcp", buffer, frames, stopping);
                        log.LogWarning("syslog: closing {Remote}: a frame is over {Max} bytes or badly framed",
                            client.Client.RemoteEndPoint, options.MaxMessageBytes);
                        return;
                    }
                    var (start, length) = frame.GetOffsetAndLength(consumed);
                    // An empty frame (a blank line, or the LF some senders put after a counted frame) is no message.
                    if (length > 0) frames.Add(new Range(offset + start, offset + start + length));
                    offset += consumed;
                }
                await WriteAsync("tcp", buffer, frames, stopping);
                buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
                filled -= offset;
            }
            // The sender closed: a last line without its LF is still a message.
            if (filled > 0 && buffer[0] is not (>= (byte)'1' and <= (byte)'9'))
                await WriteAsync("tcp", buffer, [new Range(0, filled)], stopping);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private async Task UdpAsync(IPEndPoint endpoint, CancellationToken stopping)
    {
        using var udp = new UdpClient(endpoint);
        log.LogInformation("syslog listening on udp {Endpoint}", endpoint);
        var datagrams = new List<byte[]>();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                datagrams.Clear();
                datagrams.Add((await udp.ReceiveAsync(stopping)).Buffer);
                // What else has arrived goes in the same append.
                while (datagrams.Count < 1000 && udp.Available > 0) datagrams.Add(udp.Receive(ref endpoint));
                var outcome = await pipeline.IngestAsync(Target, datagrams.Sum(d => (long)d.Length), true, b =>
                {
                    var arrival = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
                    for (var i = 0; i < datagrams.Count; i++)
                    {
                        var d = datagrams[i];
                        SyslogParser.AddRecord(b, d.AsSpan(0, Math.Min(d.Length, options.MaxMessageBytes)), arrival,
                            i);
                    }
                    return null;
                }, ct: stopping);
                Count("udp", outcome, datagrams.Count);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    // Appends the frames; on backpressure it waits and tries again, so a TCP sender is slowed, not dropped.
    private async Task WriteAsync(string transport, byte[] buffer, List<Range> frames,
        CancellationToken stopping)
    {
        if (frames.Count == 0) return;
        long bytes = 0;
        foreach (var f in frames) bytes += f.GetOffsetAndLength(buffer.Length).Length;
        while (true)
        {
            var outcome = await pipeline.IngestAsync(Target, bytes, true, b =>
            {
                var arrival = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
                for (var i = 0; i < frames.Count; i++) SyslogParser.AddRecord(b, buffer.AsSpan(frames[i]), arrival, i);
                return null;
            }, ct: stopping);
            if (outcome.Status == IngestStatus.Backpressure)
            {
                await Task.Delay(TimeSpan.FromSeconds(outcome.RetryAfterSecs), clock, stopping);
                continue;
            }
            Count(transport, outcome, frames.Count);
            return;
        }
    }

    private static void Count(string transport, IngestOutcome outcome, int messages)
    {
        IngestHttp.CountWarnings(outcome);
        Messages.WithLabels(transport).Inc(outcome.Accepted);
        if (outcome.Rejected > 0) Dropped.WithLabels(transport, "rejected").Inc(outcome.Rejected);
        var lost = messages - outcome.Accepted - outcome.Rejected;
        if (lost > 0) Dropped.WithLabels(transport, outcome.Status.ToString().ToLowerInvariant()).Inc(lost);
    }
}
