using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace MoleSignal.Grains.Cluster;

/// <summary>StreamGrains live on silos whose roles include ingester (or standalone).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class IngesterPlacement : PlacementStrategy
{
    public static readonly IngesterPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class)]
public sealed class IngesterPlacementAttribute() : PlacementAttribute(IngesterPlacement.Instance);

/// <summary>
/// Rendezvous hashing of <c>org|stream</c> over the eligible silos, keyed by each silo's endpoint (not its
/// generation, so a restarted ingester gets its streams back): every silo computes the same owner, and a silo
/// joining or leaving moves only the streams it wins or held. Silos without role metadata are not eligible.
/// </summary>
public sealed class IngesterPlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    public static bool IsIngester(SiloMetadata? m) => SiloRoles.Has(m, "ingester", "standalone");

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var eligible = context.GetCompatibleSilos(target).Where(s => IsIngester(metadata.GetSiloMetadata(s))).ToArray();
        if (eligible.Length == 0)
            throw new OrleansException("no silo with the ingester role is available to host " + target.GrainIdentity);
        return Task.FromResult(Owner(target.GrainIdentity.Key.ToString()!, eligible));
    }

    /// <summary>The owner of a stream grain key (<c>org|type|stream</c>) among silos.</summary>
    public static SiloAddress Owner(string grainKey, IReadOnlyList<SiloAddress> silos)
    {
        var parts = grainKey.Split('|');
        var stream = parts.Length == 3 ? $"{parts[0]}|{parts[2]}" : grainKey; // the spec hashes org|stream
        SiloAddress? best = null;
        ulong bestScore = 0;
        foreach (var silo in silos)
        {
            var score = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes($"{stream}|{silo.Endpoint}"));
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(silo.Endpoint.ToString(), best.Endpoint.ToString()) < 0))
            {
                best = silo;
                bestScore = score;
            }
        }
        return best!;
    }
}

public static class PlacementRegistration
{
    /// <summary>Every silo registers every director: placement runs on whichever silo gets the first call.</summary>
    public static IServiceCollection AddMoleSignalPlacement(this IServiceCollection services)
    {
        services.AddPlacementDirector<IngesterPlacement, IngesterPlacementDirector>();
        services.AddSingleton<QuerierSilos>();
        services.AddPlacementDirector<QuerierPlacement, QuerierPlacementDirector>();
        return services;
    }
}
