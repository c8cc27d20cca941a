using MoleSignal.Grains.Metadata;

namespace MoleSignal.Grains.Ingest;

/// <summary>
/// One stream's idempotency keys: those acknowledged within the window, with their receipts, and those of
/// requests being written now. A key is reserved by its request's first batch and completed by its last; a
/// retry meanwhile is told to wait, and a reservation whose request never finished (its gateway died) lapses.
/// Bounded: past <see cref="MaxKeys"/> keys or <see cref="MaxBytes"/> of keys and receipts (a bulk answer's
/// receipt lists every refused item) the oldest acknowledged keys are forgotten first.
/// </summary>
public sealed class IdempotencyKeys(TimeSpan window)
{
    public const int MaxKeys = 100_000;

    public const long MaxBytes = 64L << 20;

    /// <summary>A request that reserved its key and then went silent frees it after this long.</summary>
    public static readonly TimeSpan ReservationLapse = TimeSpan.FromSeconds(60);

    public enum State { Free, Acknowledged, InFlight }

    private sealed class Slot
    {
        public byte[]? Receipt;
        public long AtMicros; // acknowledged at, or reserved at
    }

    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    // Acknowledged keys in the order they were acknowledged: expiry and the bound drop from the front.
    private readonly Queue<(string Key, long AtMicros)> _order = new();

    public TimeSpan Window { get; set; } = window;

    private long _bytes; // of acknowledged keys and their receipts

    public int Count => _slots.Count;

    public long Bytes => _bytes;

    public State Check(string key, long nowMicros, out byte[]? receipt)
    {
        Expire(nowMicros);
        receipt = null;
        if (!_slots.TryGetValue(key, out var slot)) return State.Free;
        if (slot.Receipt is { } r)
        {
            receipt = r;
            return State.Acknowledged;
        }
        if (nowMicros - slot.AtMicros < (long)ReservationLapse.TotalMicroseconds) return State.InFlight;
        _slots.Remove(key);
        return State.Free;
    }

    public void Reserve(string key, long nowMicros) => _slots[key] = new Slot { AtMicros = nowMicros };

    /// <summary>Frees a reservation whose request failed (an acknowledged key stays).</summary>
    public void Release(string key)
    {
        if (_slots.TryGetValue(key, out var slot) && slot.Receipt is null) _slots.Remove(key);
    }

    /// <summary>The key's request is durable: later requests with it get <paramref name="receipt"/>.</summary>
    public void Acknowledge(string key, byte[] receipt, long atMicros)
    {
        if (_slots.TryGetValue(key, out var old) && old.Receipt is not null) _bytes -= Size(key, old.Receipt);
        _slots[key] = new Slot { Receipt = receipt, AtMicros = atMicros };
        _bytes += Size(key, receipt);
        _order.Enqueue((key, atMicros));
        while ((_slots.Count > MaxKeys || _bytes > MaxBytes) && _order.TryDequeue(out var oldest)) Forget(oldest);
    }

    private void Expire(long nowMicros)
    {
        var cut = IngestKeyStore.OldestKept(nowMicros, Window);
        while (_order.TryPeek(out var oldest) && oldest.AtMicros < cut)
            Forget(_order.Dequeue());
    }

    // A key acknowledged again (a reload) is queued twice: only its latest entry removes it.
    private void Forget((string Key, long AtMicros) entry)
    {
        if (!_slots.TryGetValue(entry.Key, out var slot) || slot.Receipt is null || slot.AtMicros != entry.AtMicros)
            return;
        _slots.Remove(entry.Key);
        _bytes -= Size(entry.Key, slot.Receipt);
    }

    private static long Size(string key, byte[] receipt) => key.Length + receipt.Length;
}
