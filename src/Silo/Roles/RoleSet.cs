namespace MoleSignal.Silo.Roles;

/// <summary>
/// The roles this process runs. Every listed role takes effect (the spec's "first element only" limit is
/// removed); <c>standalone</c> runs all of them.
/// </summary>
public sealed class RoleSet
{
    public const string Standalone = "standalone";
    public const string Router = "router";
    public const string Ingester = "ingester";
    public const string Querier = "querier";
    public const string Compactor = "compactor";
    public const string AlertManager = "alert_manager";

    public RoleSet(IEnumerable<string> roles) => Names = roles.Distinct().ToArray();

    public IReadOnlyList<string> Names { get; }

    public bool IsStandalone => Names.Contains(Standalone);

    public bool Runs(string role) => IsStandalone || Names.Contains(role);

    /// <summary>Silo metadata value (key <c>roles</c>) read by placement directors.</summary>
    public string MetadataValue => string.Join(',', Names);

    public override string ToString() => MetadataValue;
}
