namespace MoleSignal.Grains.Compaction;

/// <summary><c>[storage.file_meta_dump]</c>, replaced whole on a config reload.</summary>
public sealed record FileMetaDumpSettings(
    bool Enabled,
    TimeSpan Interval,
    /// <summary>A day at least this many days before today is cold (today itself never is).</summary>
    int ColdAfterDays)
{
    /// <summary>Days before this one are cold.</summary>
    public long ColdBeforeDay(long today) => today - Math.Max(ColdAfterDays, 1) + 1;
}
