using MoleSignal.Grains.Metadata;

namespace MoleSignal.Silo.Roles;

/// <summary>
/// Cluster mode = Postgres metadata and roles other than standalone: Orleans membership in Postgres and the
/// cluster_nodes heartbeat. Anything else is one self-contained node (localhost clustering, no cluster_nodes).
/// </summary>
public static class ClusterMode
{
    public static bool IsOn(MetaStore meta, RoleSet roles) => meta.Dialect == MetaDialect.Postgres && !roles.IsStandalone;
}
