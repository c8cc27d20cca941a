using MoleSignal.Grains.Abstractions.Auth;
using MoleSignal.Grains.Abstractions.Query;

namespace MoleSignal.Grains.Federation;

/// <summary>
/// Turns a query's <c>clusters</c> list into the clusters it reads: refused without the license feature when it
/// names anything but <c>local</c>, a name that is no remote cluster refused, a disabled cluster skipped (and
/// reported degraded).
/// </summary>
public sealed class Federator(IRemoteClusters clusters, ILicense license, RemoteScanClient client,
    LiveSettings<FederationSettings> settings)
{
    /// <summary>The query's federation, or null when it names no clusters (this cluster alone, no
    /// <c>_cluster</c> column).</summary>
    public async Task<FederatedQuery?> PlanAsync(QueryRequest request, CancellationToken ct)
    {
        if (request.Clusters is not { } names) return null;
        if (names.Count == 0)
            throw new QueryException(QueryErrorKind.Invalid, "invalid_clusters",
                "clusters names no cluster: use local or a remote's name");
        if (ClusterTargets.AnyRemote(names) && !license.Allows(LicenseFeatures.FederatedSearch))
            throw LicenseRequired(license.Current);
        var remotes = new List<RemoteCluster>();
        var degraded = new Dictionary<string, string>();
        foreach (var name in names.Distinct().Where(n => n != ClusterTargets.Local))
        {
            var cluster = await clusters.GetAsync(name, ct)
                ?? throw new QueryException(QueryErrorKind.Invalid, "unknown_cluster", $"'{name}' is not a remote cluster " +
                                                                    "(GET /api/v1/remote_clusters lists them)");
            if (cluster.Enabled)
            {
                remotes.Add(cluster);
                continue;
            }
            degraded[name] = "disabled";
            FederationMetrics.RemoteScans.WithLabels(name, "disabled").Inc();
        }
        return new FederatedQuery(request.Org, names.Contains(ClusterTargets.Local), remotes, degraded, client,
            settings.Current.RemoteTimeout);
    }

    public static QueryException LicenseRequired(LicenseState state) =>
        new(QueryErrorKind.Unlicensed, LicenseFeatures.RequiredCode, LicenseFeatures.FederationRefusal(state));
}
