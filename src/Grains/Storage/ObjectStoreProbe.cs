using System.Diagnostics;
using System.Security.Cryptography;

namespace MoleSignal.Grains.Storage;

/// <summary>
/// The spec's health round-trip: PUT, GET, DELETE of 128 random bytes at <c>_health/{uuid}.probe</c>.
/// Three failures in a row set degraded; one success clears it.
/// </summary>
public sealed class ObjectStoreProbe(IObjectStore store)
{
    public const int FailuresToDegrade = 3;
    private readonly object _gate = new();
    private int _consecutiveFailures;

    public bool Degraded { get; private set; }

    public string? LastError { get; private set; }

    public int ConsecutiveFailures => _consecutiveFailures;

    /// <summary>One round-trip; throws with the reason on failure. Does not change the degraded state.</summary>
    public async Task RoundTripAsync(CancellationToken ct = default)
    {
        var key = ObjectKey.Probe(Guid.NewGuid());
        var payload = RandomNumberGenerator.GetBytes(128);
        await store.PutAsync(key, payload, ct);
        try
        {
            var back = await store.GetAsync(key, ct);
            if (back is null) throw new IOException($"probe object {key} was not found after PUT");
            if (!back.AsSpan().SequenceEqual(payload)) throw new IOException($"probe object {key} came back with different bytes");
        }
        finally
        {
            await store.DeleteAsync(key, ct);
        }
    }

    /// <summary>One periodic probe: round-trip and update the degraded state. Returns true on success.</summary>
    public async Task<bool> ProbeAsync(CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            await RoundTripAsync(ct);
            Record(null);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Record(e.Message);
            return false;
        }
        finally
        {
            ObjectStoreMetrics.ProbeDuration.Observe(sw.Elapsed.TotalSeconds);
        }
    }

    private void Record(string? error)
    {
        lock (_gate)
        {
            if (error is null)
            {
                _consecutiveFailures = 0;
                Degraded = false;
                LastError = null;
            }
            else
            {
                _consecutiveFailures++;
                LastError = error;
                if (_consecutiveFailures >= FailuresToDegrade) Degraded = true;
            }
            ObjectStoreMetrics.ProbeTotal.WithLabels(error is null ? "success" : "failure").Inc();
            ObjectStoreMetrics.ProbeConsecutiveFailures.Set(_consecutiveFailures);
            ObjectStoreMetrics.ProbeDegraded.Set(Degraded ? 1 : 0);
        }
    }
}
