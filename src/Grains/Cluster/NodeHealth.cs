using MoleSignal.Grains.Abstractions.Health;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Cluster;

/// <summary>This process's health: replay state (set by the ingester role, or at once without one) and the store probe.</summary>
public sealed class NodeHealth(ObjectStoreProbe probe) : INodeHealth
{
    private volatile bool _replayDone;

    public bool ReplayDone => _replayDone;

    public bool ObjectStoreDegraded => probe.Degraded;

    public string? ObjectStoreError => probe.Degraded ? probe.LastError : null;

    public string? ReplayProblem { get; private set; }

    public void MarkReplayDone()
    {
        ReplayProblem = null;
        _replayDone = true;
    }

    public void ReplayFailed(string problem) => ReplayProblem = problem;
}
