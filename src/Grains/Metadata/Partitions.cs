using MoleSignal.Grains.Abstractions.Ingest;

namespace MoleSignal.Grains.Metadata;

/// <summary>A stream's data is partitioned by UTC day: each data file holds rows of one day only.</summary>
public static class Partitions
{
    public const long MicrosPerDay = 86_400_000_000L;

    /// <summary>Days since 1970-01-01 of a timestamp in microseconds (never negative: ingest refuses older
    /// ones).</summary>
    public static long DayOf(long micros) =>
        micros >= 0 ? micros / MicrosPerDay : -((-micros + MicrosPerDay - 1) / MicrosPerDay);

    public static long DayStart(long day) => day * MicrosPerDay;

    /// <summary>The date of a day number; days outside years 1-9999 have none.</summary>
    public static DateOnly Date(long day) =>
        DateOnly.FromDayNumber(checked((int)(day + DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber)));

    /// <summary>yyyy-MM-dd of a day number.</summary>
    public static string DayName(long day) => Date(day).ToString("yyyy-MM-dd");
}

/// <summary>One partition: a stream's files of one UTC day.</summary>
public readonly record struct PartitionKey(StreamKey Stream, long Day)
{
    public override string ToString() => $"{Stream}/{Partitions.DayName(Day)}";
}
