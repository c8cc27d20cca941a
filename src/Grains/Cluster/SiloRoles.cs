using Orleans.Runtime.MembershipService.SiloMetadata;

namespace MoleSignal.Grains.Cluster;

/// <summary>A silo's roles as its metadata carries them (key <c>roles</c>, comma-joined), read by the placement directors.</summary>
public static class SiloRoles
{
    public const string MetadataKey = "roles";

    /// <summary>Whether the silo runs any of the roles; a silo without role metadata runs none.</summary>
    public static bool Has(SiloMetadata? metadata, params string[] anyOf) =>
        metadata is not null && metadata.Metadata.TryGetValue(MetadataKey, out var roles) && roles.Split(',').Any(anyOf.Contains);
}
