using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// The first WAL seq a stream's live buffer holds. A file whose WAL range reaches it still has its rows in the
/// buffer, and queries leave such a file out (the buffer serves those rows): merged with others, it would take
/// their rows out of queries too. So only files wholly below the boundary merge. The buffer only lets entries go
/// from its front, so the boundary never moves back.
/// </summary>
public interface IBufferBoundary
{
    Task<long> FirstBufferedSeqAsync(StreamKey key);
}

/// <summary>Asks the stream's grain (activating it, with its WAL recovery, when it is not running).</summary>
public sealed class GrainBufferBoundary(IGrainFactory grains) : IBufferBoundary
{
    public async Task<long> FirstBufferedSeqAsync(StreamKey key) =>
        (await grains.GetGrain<IStreamGrain>(key.GrainKey).GetBufferStats()).BufferedFromSeq;
}
