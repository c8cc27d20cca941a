namespace MoleSignal.Grains.Abstractions.Ingest;

/// <summary>A stream's identity. The grain key is <c>org|type|stream</c>; names are already validated.</summary>
[GenerateSerializer, Immutable]
public sealed record StreamKey([property: Id(0)] string Org, [property: Id(1)] string Type, [property: Id(2)] string Stream)
{
    public const string Logs = "logs";
    public const string Metrics = "metrics";
    public const string Traces = "traces";
    public static readonly string[] Types = [Logs, Metrics, Traces];

    public string GrainKey => $"{Org}|{Type}|{Stream}";

    public static StreamKey Parse(string grainKey)
    {
        var parts = grainKey.Split('|');
        if (parts.Length != 3) throw new ArgumentException($"'{grainKey}' is not org|type|stream");
        return new StreamKey(parts[0], parts[1], parts[2]);
    }

    public override string ToString() => GrainKey;
}
