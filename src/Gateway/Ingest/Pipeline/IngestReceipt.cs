namespace MoleSignal.Gateway.Ingest;

/// <summary>
/// A written stream part's outcome as the bytes its stream keeps with the request's idempotency key: a retry of
/// the key is answered from it (the same counts, the same rejected records and reasons) without writing again.
/// </summary>
public static class IngestReceipt
{
    private const byte Version = 1;

    public static byte[] Encode(IngestOutcome o)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write(Version);
            w.Write(o.Accepted);
            w.Write(o.Rejected);
            w.Write(o.InvalidUtf8Values);
            w.Write(o.Errors.Count);
            foreach (var e in o.Errors)
            {
                w.Write(e.Index);
                w.Write(e.Error);
            }
            w.Write(o.RejectedReasons?.Count ?? -1);
            if (o.RejectedReasons is { } reasons)
                foreach (var (index, reason) in reasons)
                {
                    w.Write(index);
                    w.Write(reason);
                }
        }
        return buffer.ToArray();
    }

    /// <summary>The outcome a receipt keeps, marked <see cref="IngestOutcome.Replayed"/>.</summary>
    public static IngestOutcome Decode(byte[] receipt)
    {
        using var r = new BinaryReader(new MemoryStream(receipt));
        if (r.ReadByte() != Version) throw new InvalidDataException("unknown idempotency receipt version");
        var accepted = r.ReadInt32();
        var rejected = r.ReadInt32();
        var invalidUtf8 = r.ReadInt32();
        var errors = new RecordError[r.ReadInt32()];
        for (var i = 0; i < errors.Length; i++) errors[i] = new RecordError(r.ReadInt32(), r.ReadString());
        Dictionary<int, string>? reasons = null;
        var n = r.ReadInt32();
        if (n >= 0)
        {
            reasons = new Dictionary<int, string>(n);
            for (var i = 0; i < n; i++) reasons[r.ReadInt32()] = r.ReadString();
        }
        return new IngestOutcome(IngestStatus.Ok, accepted, rejected, errors, invalidUtf8, null, 0, null, reasons)
        {
            Replayed = true,
        };
    }
}
