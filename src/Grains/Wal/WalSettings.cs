namespace MoleSignal.Grains.Wal;

public enum FlushStrategy { Batch, None, EveryWrite }

public enum SyncLevel { Data, All }

public sealed record WalSettings(string Dir, long SegmentBytes, FlushStrategy Strategy, SyncLevel Sync)
{
    public static FlushStrategy ParseStrategy(string s) => s switch
    {
        "batch" => FlushStrategy.Batch,
        "none" => FlushStrategy.None,
        "every_write" => FlushStrategy.EveryWrite,
        _ => throw new ArgumentException($"unknown wal.flush_strategy '{s}'"),
    };

    public static SyncLevel ParseSync(string s) => s == "all" ? SyncLevel.All : SyncLevel.Data;
}
