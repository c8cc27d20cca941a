using MoleSignal.Gateway.RateLimits;
using MoleSignal.Grains.Abstractions.Health;
using MoleSignal.Grains.Abstractions.Cluster;
using MoleSignal.Grains;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;
using MoleSignal.Silo.Workers;

namespace MoleSignal.Silo.Startup;

/// <summary>Everything a node runs besides its listeners: one place for the binary and for in-process test silos.</summary>
public static class NodeServices
{
    public static IServiceCollection AddMoleSignalNode(this IServiceCollection s, MoleSignalConfig config, IConfigurationRoot root,
        RoleSet roles, IObjectStore objectStore, ObjectStoreProbe probe, MetaStore meta)
    {
        var health = new NodeHealth(probe);
        s.AddSingleton(config);
        s.AddSingleton(root);
        s.AddSingleton<LiveConfig>();
        s.AddSingleton(roles);
        s.AddSingleton(objectStore);
        s.AddSingleton(probe);
        s.AddSingleton(meta);
        s.AddSingleton(health);
        s.AddSingleton(new NodeSelf(config.Node.Id, roles.MetadataValue.Split(','), config.Cluster.AdvertiseAddr,
            typeof(NodeServices).Assembly.GetName().Version?.ToString() ?? "0.0.0",
            Clock.NowMicros(TimeProvider.System)));
        s.AddSingleton<INodeHealth>(health);
        s.AddIngest(config);
        s.AddSyslog(config);
        s.AddQuery(config);
        s.AddCompaction(config, roles);
        s.AddSingleton(sp => new RateLimitSource(() =>
        {
            var rl = sp.GetRequiredService<LiveConfig>().Current.Router.RateLimit;
            return (rl.IngestQps, rl.QueryQps);
        }));
        s.AddSingleton<OrgRateLimits>();
        s.AddSingleton<ClusterRegistry>();
        s.AddSingleton<ClusterHeartbeat>();
        s.AddSingleton<IClusterDirectory>(sp => sp.GetRequiredService<ClusterHeartbeat>());
        s.AddHostedService(sp => sp.GetRequiredService<ClusterHeartbeat>());
        s.AddHostedService<RoleHost>();
        s.AddHostedService<IngesterReplay>();
        s.AddHostedService<ObjectStoreProbeWorker>();
        return s;
    }
}
