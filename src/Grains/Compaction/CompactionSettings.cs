namespace MoleSignal.Grains.Compaction;

/// <summary>The compactor's settings (<c>[compactor]</c>), replaced whole on a config reload.</summary>
public sealed record CompactionSettings(
    TimeSpan Interval,
    /// <summary>Files below this size merge; merged files come out about this size.</summary>
    long TargetFileBytes,
    /// <summary>Replaced objects stay this long (longer than a query may run) before they are deleted.</summary>
    TimeSpan DeleteDelay,
    /// <summary>Days of data kept where a stream sets none; 0 keeps everything.</summary>
    int RetentionDays,
    /// <summary>A partition lease lapses this long after its holder's last renewal.</summary>
    TimeSpan LeaseTtl);
