namespace MoleSignal.Grains.Abstractions.Ingest;

public enum DrainState : byte { Serving, Draining, Done, Failed }

/// <param name="Streams">Streams of this node still to drain.</param>
/// <param name="Error">Why the last drain failed (it may be started again).</param>
public sealed record DrainStatus(DrainState State, int Streams, long BufferedBytes, string? Error);

/// <summary>
/// Scale-down safety of one ingester node: refuse new appends (a 503 the sender retries, by then at the stream's
/// next owner), flush every buffer of this node into data files and empty the streams' WALs.
/// </summary>
public interface INodeDrain
{
    DrainStatus Status { get; }

    /// <summary>Starts draining (again, after a failure); returns at once.</summary>
    DrainStatus Start();
}
