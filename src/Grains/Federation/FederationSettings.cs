namespace MoleSignal.Grains.Federation;

/// <summary>The [federation] keys in force.</summary>
/// <param name="RemoteTimeout">How long one remote cluster's scan may take before the query goes on without
/// it.</param>
public sealed record FederationSettings(TimeSpan RemoteTimeout);
