namespace MoleSignal.Tests.Support;

/// <summary>For tests of per-day state (quotas, partitions) that a real node keeps by the UTC day: their scenario
/// must not straddle midnight.</summary>
public static class UtcDay
{
    /// <summary>Waits past the next UTC midnight when it is nearer than <paramref name="margin"/>, so a scenario
    /// shorter than that runs within one day.</summary>
    public static async Task AvoidMidnightAsync(TimeSpan margin)
    {
        var now = DateTime.UtcNow;
        var midnight = now.Date.AddDays(1);
        if (midnight - now < margin) await Task.Delay(midnight - now + TimeSpan.FromSeconds(1));
    }
}
