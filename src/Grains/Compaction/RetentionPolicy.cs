using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Compaction;

/// <summary>
/// How long a stream's data is kept: its own <c>retention_days</c>, else <c>[compactor].retention_days</c>; 0 keeps
/// everything. Whole UTC days go, once all of a day is older than the retention, so the first kept day is the one
/// that the retention window's start falls in.
/// </summary>
public sealed class RetentionPolicy(LiveSettings<CompactionSettings> settings, TimeProvider clock)
{
    public int Days(int? own) => own ?? settings.Current.RetentionDays;

    /// <summary>The first day a retention of <paramref name="days"/> keeps, at <paramref name="nowMicros"/>.</summary>
    public static long FirstKeptDay(long nowMicros, int days) =>
        days <= 0 ? long.MinValue : Partitions.DayOf(nowMicros - days * Partitions.MicrosPerDay);

    public long FirstKeptDay(int days) => FirstKeptDay(Clock.NowMicros(clock), days);

    /// <summary>The first kept day as a date; null when everything is kept.</summary>
    public DateOnly? OldestKeptDate(int days) => days <= 0 ? null : Partitions.Date(FirstKeptDay(days));
}
