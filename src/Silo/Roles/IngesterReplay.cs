using System.Diagnostics;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Wal;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Roles;

/// <summary>
/// The ingester's startup: every stream with WAL segments under [wal].dir is activated (which replays its WAL
/// into the buffer) and flushed once; then replay is done and /readyz turns 200. Runs in the background so the
/// HTTP port answers (503) meanwhile. Without the ingester role, replay is done at once.
/// </summary>
public sealed class IngesterReplay(RoleSet roles, NodeHealth health, LiveConfig config, IGrainFactory grains, ILogger<IngesterReplay> log) : IHostedService
{
    private Task? _run;

    public Task StartAsync(CancellationToken ct)
    {
        if (!roles.Runs(RoleSet.Ingester))
        {
            health.MarkReplayDone();
            return Task.CompletedTask;
        }
        _run = Task.Run(ReplayAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ReplayAsync()
    {
        var sw = Stopwatch.StartNew();
        var streams = StreamsWithWal(config.Current.Wal.Dir);
        long bytes = 0;
        foreach (var (_, dir) in streams)
            bytes += StreamWal.ListSegments(dir).Sum(s => new FileInfo(s.Path).Length);
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(streams.Select(async s =>
        {
            await gate.WaitAsync();
            try
            {
                await grains.GetGrain<IStreamGrain>(s.Key.GrainKey).Flush();
            }
            catch (Exception e)
            {
                // The data stays buffered and in the WAL; the stream retries its flush on its own.
                log.LogWarning("replay of {Stream}: flush failed, data stays in the WAL: {Error}", s.Key, e.Message);
            }
            finally
            {
                gate.Release();
            }
        }));
        health.MarkReplayDone();
        var secs = sw.Elapsed.TotalSeconds;
        log.LogInformation("wal replay done: {Streams} streams, {MiB:F1} MiB in {Secs:F2}s ({Rate:F1} MiB/s)",
            streams.Count, bytes / 1048576.0, secs, secs > 0 ? bytes / 1048576.0 / secs : 0);
    }

    /// <summary>{wal.dir}/{org}/{type}/{stream}/ directories holding segments.</summary>
    public static List<(StreamKey Key, string Dir)> StreamsWithWal(string walDir)
    {
        var root = Path.GetFullPath(walDir);
        var found = new List<(StreamKey, string)>();
        if (!Directory.Exists(root)) return found;
        foreach (var org in Directory.EnumerateDirectories(root))
        foreach (var type in Directory.EnumerateDirectories(org))
        foreach (var stream in Directory.EnumerateDirectories(type))
        {
            if (StreamWal.ListSegments(stream).Count == 0) continue;
            found.Add((new StreamKey(Path.GetFileName(org), Path.GetFileName(type), Path.GetFileName(stream)), stream));
        }
        return found;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_run is not null) await _run.WaitAsync(ct).ContinueWith(_ => { }, CancellationToken.None);
    }
}
