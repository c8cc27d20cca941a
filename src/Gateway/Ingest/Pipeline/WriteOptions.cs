namespace MoleSignal.Gateway.Ingest;

/// <summary>What a request asks of its write beyond the records: the message and time fields it names, and its
/// <c>Idempotency-Key</c>.</summary>
public sealed record WriteOptions(FieldMapping? Mapping = null, string? IdempotencyKey = null)
{
    public static readonly WriteOptions None = new();

    public const int MaxKeyLength = 255;

    public const string KeyRule = "an Idempotency-Key is 1 to 255 visible ASCII characters";

    /// <summary>Whether the key can be kept: visible ASCII, so it is the same text in every store.</summary>
    public static bool ValidKey(string key)
    {
        if (key.Length is 0 or > MaxKeyLength) return false;
        foreach (var c in key)
            if (c is < '!' or > '~') return false;
        return true;
    }
}
