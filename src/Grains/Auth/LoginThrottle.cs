using System.Collections.Concurrent;

namespace MoleSignal.Grains.Auth;

/// <summary>
/// Failed password checks per (email, client address): the first <see cref="FreeFailures"/> cost nothing, each
/// one after doubles a lockout from 1 s up to 5 min; a success clears it. Bounded like every per-key table here.
/// </summary>
public sealed class LoginThrottle(TimeProvider clock)
{
    public const int FreeFailures = 3, MaxKeys = 50_000;
    private static readonly TimeSpan MaxLock = TimeSpan.FromMinutes(5), Forget = TimeSpan.FromMinutes(15);

    private sealed record State(int Failures, DateTimeOffset LockedUntil, DateTimeOffset Last);

    private readonly ConcurrentDictionary<(string, string), State> _states = new();

    /// <summary>Seconds to wait before another attempt, or 0.</summary>
    public int RetryAfter(string email, string client)
    {
        if (!_states.TryGetValue((email, client), out var s)) return 0;
        var left = s.LockedUntil - clock.GetUtcNow();
        return left > TimeSpan.Zero ? (int)Math.Ceiling(left.TotalSeconds) : 0;
    }

    public void Failed(string email, string client)
    {
        var now = clock.GetUtcNow();
        if (_states.Count >= MaxKeys)
        {
            foreach (var (k, v) in _states)
                if (now - v.Last > Forget) _states.TryRemove(k, out _);
            if (_states.Count >= MaxKeys) _states.Clear();
        }
        _states.AddOrUpdate((email, client), _ => new State(1, now, now), (_, s) =>
        {
            var failures = s.Failures + 1;
            var over = failures - FreeFailures;
            var wait = over <= 0 ? TimeSpan.Zero
                : TimeSpan.FromSeconds(Math.Min(MaxLock.TotalSeconds, Math.Pow(2, Math.Min(over, 20))));
            return new State(failures, now + wait, now);
        });
    }

    public void Succeeded(string email, string client) => _states.TryRemove((email, client), out _);
}
