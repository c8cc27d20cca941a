using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// The streams active on this node, and their drain: once started, every StreamGrain here refuses appends,
/// flushes, deletes its WAL and deactivates; streams activated here meanwhile (a retry placed here again) are
/// refused and drained the same way. Done when no stream of this node holds a record.
/// </summary>
public sealed class NodeDrain(IGrainFactory grains, IngestMemory memory, ILogger<NodeDrain> log) : INodeDrain
{
    private readonly ConcurrentDictionary<string, byte> _active = new(StringComparer.Ordinal);
    private volatile bool _draining;
    private volatile DrainState _state = DrainState.Serving;
    private volatile string? _error;
    private Task? _run;
    private readonly Lock _gate = new();

    /// <summary>True from the start of a drain on: appends are refused.</summary>
    public bool Draining => _draining;

    public void Activated(string grainKey) => _active[grainKey] = 0;

    public void Deactivated(string grainKey) => _active.TryRemove(grainKey, out _);

    public DrainStatus Status => new(_state, _active.Count, memory.Used, _error);

    public DrainStatus Start()
    {
        lock (_gate)
        {
            _draining = true;
            if (_run is null || _run.IsCompleted)
            {
                _state = DrainState.Draining;
                _error = null;
                _run = Task.Run(RunAsync);
            }
        }
        return Status;
    }

    private async Task RunAsync()
    {
        try
        {
            // Rounds, because a retry may activate a stream here again while the first round runs.
            for (var round = 0; round < 100 && !_active.IsEmpty; round++)
                await Task.WhenAll(_active.Keys.ToArray().Select(k => grains.GetGrain<IStreamGrain>(k).Drain()));
            if (!_active.IsEmpty) throw new InvalidOperationException($"{_active.Count} streams still active");
            _state = DrainState.Done;
            log.LogInformation("drain done: every stream of this node is flushed and its WAL removed");
        }
        catch (Exception e)
        {
            _error = e.Message;
            _state = DrainState.Failed;
            log.LogWarning("drain failed (start it again): {Error}", e.Message);
        }
    }
}
