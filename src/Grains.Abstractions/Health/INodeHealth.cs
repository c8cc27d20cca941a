namespace MoleSignal.Grains.Abstractions.Health;

/// <summary>What /healthz and /readyz report for this process.</summary>
public interface INodeHealth
{
    /// <summary>WAL replay finished (always true on roles without an ingester).</summary>
    bool ReplayDone { get; }

    /// <summary>Why replay is not done yet when a stream's WAL recovery failed (it is retried meanwhile).</summary>
    string? ReplayProblem { get; }

    /// <summary>Three consecutive object store probes failed and none has succeeded since.</summary>
    bool ObjectStoreDegraded { get; }

    /// <summary>The last probe error while degraded.</summary>
    string? ObjectStoreError { get; }
}
