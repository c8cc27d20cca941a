namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// The <c>_timestamp</c> values a stream accepts: from 1970-01-01 to the last instant int64 nanoseconds can
/// hold (2262-04-11), narrowed by <c>max_past_days</c> / <c>max_future_days</c> around the arrival time (0 = no
/// limit). Every value inside is a valid date for the flush's day partitioning and for the engine's timestamps.
/// </summary>
public readonly struct TimestampRange
{
    public const long MaxMicros = long.MaxValue / 1000;
    private const long MicrosPerDay = 86_400_000_000L;

    private readonly long _min;
    private readonly long _max;
    private readonly int _pastDays;
    private readonly int _futureDays;

    public TimestampRange(long arrivalMicros, int maxPastDays, int maxFutureDays)
    {
        _pastDays = maxPastDays;
        _futureDays = maxFutureDays;
        _min = maxPastDays > 0 ? Math.Max(0, arrivalMicros - maxPastDays * MicrosPerDay) : 0;
        _max = maxFutureDays > 0 ? Math.Min(MaxMicros, arrivalMicros + maxFutureDays * MicrosPerDay) : MaxMicros;
    }

    /// <summary>Null when <paramref name="micros"/> is accepted, else why not (naming the limit).</summary>
    public string? Check(long micros)
    {
        if (micros >= _min && micros <= _max) return null;
        if (micros < 0) return "timestamp is before 1970-01-01";
        if (micros > MaxMicros) return "timestamp is after 2262-04-11 (the int64 nanosecond range)";
        return micros < _min
            ? $"timestamp is more than {_pastDays} days in the past ([ingester].max_past_days)"
            : $"timestamp is more than {_futureDays} days in the future ([ingester].max_future_days)";
    }
}
