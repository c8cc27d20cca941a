using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace MoleSignal.Grains.Cluster;

/// <summary>ScanGrains live on silos whose roles include querier.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class QuerierPlacement : PlacementStrategy
{
    public static readonly QuerierPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class)]
public sealed class QuerierPlacementAttribute() : PlacementAttribute(QuerierPlacement.Instance);

/// <summary>The active querier silos, as every silo sees them (membership + role metadata), sorted by endpoint.</summary>
public sealed class QuerierSilos(IClusterMembershipService membership, ISiloMetadataCache metadata)
{
    public static bool IsQuerier(SiloMetadata? m) => SiloRoles.Has(m, "querier");

    public IReadOnlyList<SiloAddress> Active(IEnumerable<SiloAddress>? among = null) =>
        (among ?? membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress))
            .Where(s => IsQuerier(metadata.GetSiloMetadata(s)))
            .OrderBy(s => s.Endpoint.ToString(), StringComparer.Ordinal)
            .ToList();
}

/// <summary>Shard k of a query over n queriers goes to the (k mod n)-th querier silo in endpoint order.</summary>
public sealed class QuerierPlacementDirector(QuerierSilos queriers) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var eligible = queriers.Active(context.GetCompatibleSilos(target));
        if (eligible.Count == 0)
            throw new OrleansException("no silo with the querier role is available to host " + target.GrainIdentity);
        var key = target.GrainIdentity.Key.ToString()!;
        var shard = int.Parse(key[(key.IndexOf(':') + 1)..]);
        return Task.FromResult(eligible[shard % eligible.Count]);
    }
}
