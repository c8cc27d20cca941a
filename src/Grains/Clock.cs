namespace MoleSignal.Grains;

/// <summary>Time as the metadata tables store it: microseconds since the epoch.</summary>
public static class Clock
{
    public static long NowMicros(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    public static long Micros(TimeSpan t) => (long)t.TotalMicroseconds;
}
