using Cronos;
using MoleSignal.Grains.Abstractions.Alerts;

namespace MoleSignal.Grains.Alerts;

/// <summary>
/// Where a rule's windows end: every <c>frequency_secs</c> aligned to the epoch (so every node and every restart
/// agrees on the windows), or at each cron occurrence in the rule's IANA time zone (Cronos resolves DST: a local
/// time that does not exist runs at the jump, one that occurs twice runs once). A window is
/// [end − period, end).
/// </summary>
public sealed class AlertWindows
{
    private const long MicrosPerSec = 1_000_000;
    private readonly long _frequency;
    private readonly CronExpression? _cron;
    private readonly TimeZoneInfo _zone = TimeZoneInfo.Utc;

    public AlertWindows(AlertRuleSpec spec)
        : this(spec.Cron, spec.Timezone, spec.FrequencySecs ?? spec.PeriodSecs, spec.PeriodSecs, spec.DelaySecs)
    {
    }

    /// <summary>Ends at each occurrence of <paramref name="cron"/> in <paramref name="timezone"/>, or (cron
    /// null) every <paramref name="frequencySecs"/>.</summary>
    public AlertWindows(string? cron, string timezone, int frequencySecs, int periodSecs, int delaySecs)
    {
        Period = periodSecs * MicrosPerSec;
        Delay = delaySecs * MicrosPerSec;
        if (cron is not null)
        {
            _cron = Parse(cron);
            _zone = Zone(timezone);
        }
        else _frequency = frequencySecs * MicrosPerSec;
    }

    public long Period { get; }

    public long Delay { get; }

    /// <summary>The first window end strictly after <paramref name="micros"/>.</summary>
    public long NextEnd(long micros)
    {
        if (_cron is null) return (FloorDiv(micros, _frequency) + 1) * _frequency;
        var from = DateTime.UnixEpoch.AddTicks(micros * 10);
        var next = _cron.GetNextOccurrence(from, _zone, inclusive: false)
            ?? throw new InvalidOperationException("the cron expression has no next occurrence");
        return (next.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    }

    /// <summary>Parses five fields (minute precision) or six (with seconds).</summary>
    public static CronExpression Parse(string cron) =>
        CronExpression.Parse(cron, cron.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6
            ? CronFormat.IncludeSeconds : CronFormat.Standard);

    public static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    private static long FloorDiv(long value, long step) => value >= 0 ? value / step : (value - step + 1) / step;
}
