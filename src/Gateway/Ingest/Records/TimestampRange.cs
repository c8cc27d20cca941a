namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// The <c>_timestamp</c> values a stream accepts: from 1970-01-01 to the last instant int64 nanoseconds can
/// hold (2262-04-11), narrowed by <c>allowed_past_hours</c> / <c>allowed_future_hours</c> around the arrival time (0 = no
/// limit). Every value inside is a valid date for the flush's day partitioning and for the engine's timestamps.
/// </summary>
public readonly struct TimestampRange
{
    public const long MaxMicros = long.MaxValue / 1000;
    private const long MicrosPerHour = 3_600_000_000L;

    private readonly long _min;
    private readonly long _max;
    private readonly int _pastHours;
    private readonly int _futureHours;

    public TimestampRange(long arrivalMicros, int pastHours, int futureHours)
    {
        _pastHours = pastHours;
        _futureHours = futureHours;
        _min = pastHours > 0 ? Math.Max(0, arrivalMicros - pastHours * MicrosPerHour) : 0;
        _max = futureHours > 0 ? Math.Min(MaxMicros, arrivalMicros + futureHours * MicrosPerHour) : MaxMicros;
    }

    /// <summary>Null when <paramref name="micros"/> is accepted, else why not (naming the limit).</summary>
    public string? Check(long micros)
    {
        if (micros >= _min && micros <= _max) return null;
        if (micros < 0) return "timestamp is before 1970-01-01";
        if (micros > MaxMicros) return "timestamp is after 2262-04-11 (the int64 nanosecond range)";
        return micros < _min
            ? $"timestamp is more than {_pastHours} hours before arrival ([ingester].allowed_past_hours)"
            : $"timestamp is more than {_futureHours} hours after arrival ([ingester].allowed_future_hours)";
    }
}
