namespace MoleSignal.Grains.Alerts;

/// <summary>The alert manager's settings in force ([alert_manager]).</summary>
public sealed record AlertSettings(
    TimeSpan EvalInterval,
    TimeSpan DispatchInterval,
    TimeSpan Lease,
    TimeSpan EvalTimeout,
    int MaxCatchUpWindows,
    int MaxAttempts,
    TimeSpan RetryBase,
    int MaxRulesPerOrg,
    int MaxDestinationsPerOrg)
{
    public static readonly AlertSettings Defaults = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10),
        TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), 10, 8, TimeSpan.FromSeconds(5), 1000, 100);
}
