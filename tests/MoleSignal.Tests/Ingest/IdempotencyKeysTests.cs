using MoleSignal.Gateway.Ingest;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Wal;
using MoleSignal.Tests.Wal;

namespace MoleSignal.Tests.Ingest;

/// <summary>A stream's key table, the receipt a key keeps, and the key in its WAL entry.</summary>
public sealed class IdempotencyKeysTests
{
    private const long Second = 1_000_000;
    private const long T0 = 1_800_000_000 * Second;

    [Fact]
    public void A_key_is_free_then_in_flight_then_acknowledged_until_the_window_passes()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromSeconds(600));
        Assert.Equal(IdempotencyKeys.State.Free, keys.Check("k", T0, out _));
        keys.Reserve("k", T0);
        Assert.Equal(IdempotencyKeys.State.InFlight, keys.Check("k", T0 + Second, out _));
        keys.Acknowledge("k", [1, 2, 3], T0 + Second);
        Assert.Equal(IdempotencyKeys.State.Acknowledged, keys.Check("k", T0 + 600 * Second, out var receipt));
        Assert.Equal([1, 2, 3], receipt);
        Assert.Equal(IdempotencyKeys.State.Free, keys.Check("k", T0 + 602 * Second, out _));
        Assert.Equal(0, keys.Count);
    }

    [Fact]
    public void A_failed_request_frees_its_key_and_a_silent_one_lapses()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromSeconds(600));
        keys.Reserve("failed", T0);
        keys.Release("failed");
        Assert.Equal(IdempotencyKeys.State.Free, keys.Check("failed", T0, out _));
        keys.Reserve("silent", T0);
        var lapse = (long)IdempotencyKeys.ReservationLapse.TotalMicroseconds;
        Assert.Equal(IdempotencyKeys.State.InFlight, keys.Check("silent", T0 + lapse - 1, out _));
        Assert.Equal(IdempotencyKeys.State.Free, keys.Check("silent", T0 + lapse, out _));
        // Release never drops an acknowledged key.
        keys.Acknowledge("done", [9], T0);
        keys.Release("done");
        Assert.Equal(IdempotencyKeys.State.Acknowledged, keys.Check("done", T0, out _));
    }

    [Fact]
    public void The_table_is_bounded_by_forgetting_the_oldest_keys()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromDays(1));
        for (var i = 0; i <= IdempotencyKeys.MaxKeys; i++) keys.Acknowledge($"k{i}", [1], T0 + i);
        Assert.Equal(IdempotencyKeys.MaxKeys, keys.Count);
        Assert.Equal(IdempotencyKeys.State.Free, keys.Check("k0", T0 + IdempotencyKeys.MaxKeys, out _));
        Assert.Equal(IdempotencyKeys.State.Acknowledged, keys.Check("k1", T0 + IdempotencyKeys.MaxKeys, out _));
    }

    [Fact]
    public void The_table_is_bounded_in_bytes_too()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromDays(1));
        var big = new byte[1 << 20];
        for (var i = 0; i < 70; i++) keys.Acknowledge($"k{i}", big, T0 + i);
        Assert.True(keys.Bytes <= IdempotencyKeys.MaxBytes, $"{keys.Bytes} bytes kept");
        Assert.Equal(IdempotencyKeys.State.Free, keys.Check("k0", T0 + 70, out _));
        Assert.Equal(IdempotencyKeys.State.Acknowledged, keys.Check("k69", T0 + 70, out _));
        keys.Acknowledge("k69", [1], T0 + 71); // acknowledged again: its old receipt no longer counts
        Assert.True(keys.Bytes < 63L << 20, $"{keys.Bytes} bytes kept");
    }

    [Fact]
    public void A_key_acknowledged_again_keeps_its_latest_time()
    {
        var keys = new IdempotencyKeys(TimeSpan.FromSeconds(10));
        keys.Acknowledge("k", [1], T0);
        keys.Acknowledge("k", [2], T0 + 8 * Second);
        Assert.Equal(IdempotencyKeys.State.Acknowledged, keys.Check("k", T0 + 12 * Second, out var receipt));
        Assert.Equal([2], receipt);
    }

    [Fact]
    public void A_receipt_gives_back_the_outcome_marked_replayed()
    {
        var outcome = new IngestOutcome(IngestStatus.Ok, 7, 2, [new RecordError(3, "not an object")], 1, null, 0,
            null, new Dictionary<int, string> { [3] = "not an object", [5] = "too deep" });
        var back = IngestReceipt.Decode(IngestReceipt.Encode(outcome));
        Assert.True(back.Replayed);
        Assert.Equal((7, 2, 1), (back.Accepted, back.Rejected, back.InvalidUtf8Values));
        Assert.Equal(outcome.Errors, back.Errors);
        Assert.Equal(outcome.RejectedReasons, back.RejectedReasons);
        Assert.Null(IngestReceipt.Decode(IngestReceipt.Encode(outcome with { RejectedReasons = null }))
            .RejectedReasons);
    }

    [Fact]
    public void The_key_and_receipt_ride_in_the_WAL_entry_and_entries_without_them_read_as_before()
    {
        var keyed = StreamWalTests.Batch(5).WithKey("order-42", [4, 2]);
        var bytes = new byte[WalEntryCodec.EncodedSize(keyed)];
        Assert.Equal(bytes.Length, WalEntryCodec.Encode(5, keyed, bytes));
        Assert.Equal(WalEntryCodec.ReadStatus.Ok, WalEntryCodec.TryDecode(bytes, out var seq, out var back, out _));
        Assert.Equal(5, seq);
        Assert.Equal("order-42", back!.IdempotencyKey);
        Assert.Equal([4, 2], back.Receipt);
        Assert.Equal(keyed.Payload, back.Payload);

        // A key without a receipt (a request's earlier batch) is not kept: that batch alone proves nothing.
        var earlier = StreamWalTests.Batch(6).WithKey("order-42", null);
        var plain = StreamWalTests.Batch(6);
        Assert.Equal(WalEntryCodec.EncodedSize(plain), WalEntryCodec.EncodedSize(earlier));
        var plainBytes = new byte[WalEntryCodec.EncodedSize(plain)];
        WalEntryCodec.Encode(6, plain, plainBytes);
        Assert.Equal(WalEntryCodec.ReadStatus.Ok, WalEntryCodec.TryDecode(plainBytes, out _, out var p, out _));
        Assert.Null(p!.IdempotencyKey);
        Assert.Null(p.Receipt);

        // Cut inside the trailer: torn, like any entry cut short.
        Assert.Equal(WalEntryCodec.ReadStatus.Torn, WalEntryCodec.TryDecode(bytes.AsSpan(0, bytes.Length - 1),
            out _, out _, out _));
    }
}
