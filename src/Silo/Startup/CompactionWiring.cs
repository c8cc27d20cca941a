using Microsoft.Extensions.DependencyInjection.Extensions;
using MoleSignal.Grains;
using MoleSignal.Grains.Compaction;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;
using MoleSignal.Silo.Workers;

namespace MoleSignal.Silo.Startup;

/// <summary>Config to the compactor's settings (every node); the compactor's services and loops, on nodes of its role
/// only.</summary>
public static class CompactionWiring
{
    public static CompactionSettings Settings(MoleSignalConfig c) => new(
        TimeSpan.FromSeconds(c.Compactor.IntervalSecs),
        (long)c.Compactor.TargetFileMb << 20,
        TimeSpan.FromSeconds(c.Compactor.DeleteDelaySecs),
        c.Compactor.RetentionDays,
        TimeSpan.FromSeconds(c.Compactor.LeaseSecs));

    public static FileMetaDumpSettings DumpSettings(MoleSignalConfig c) => new(
        c.Storage.FileMetaDump.Enabled,
        TimeSpan.FromSeconds(c.Storage.FileMetaDump.IntervalSecs),
        c.Storage.FileMetaDump.ColdAfterDays);

    public static IServiceCollection AddCompaction(this IServiceCollection s, MoleSignalConfig config, RoleSet roles)
    {
        // Every node answers for streams' retention and deletes streams after the deletion delay.
        s.AddSingleton<StreamSettingsStore>();
        s.AddSingleton(new LiveSettings<CompactionSettings>(Settings(config)));
        s.TryAddSingleton(TimeProvider.System);
        s.AddSingleton<RetentionPolicy>();
        if (!roles.Runs(RoleSet.Compactor)) return s;
        s.AddSingleton<CompactionCatalog>();
        s.AddSingleton<CompactorLeases>();
        s.AddSingleton<IBufferBoundary, GrainBufferBoundary>();
        s.AddSingleton(sp => new PartitionMerger(sp.GetRequiredService<IObjectStore>(),
            sp.GetRequiredService<LiveSettings<IngestSettings>>(), Path.Combine(config.Node.DataDir, "compact-tmp")));
        s.AddSingleton<Compactor>();
        s.AddSingleton<RetentionSweeper>();
        s.AddSingleton<FileDeleter>();
        s.AddHostedService<CompactorWorkers>();
        s.AddSingleton(new LiveSettings<FileMetaDumpSettings>(DumpSettings(config)));
        s.AddSingleton<FileMetaDumper>();
        s.AddHostedService<FileMetaDumpWorker>();
        return s;
    }

    public static void FollowReloads(IServiceProvider sp)
    {
        var live = sp.GetRequiredService<LiveConfig>();
        if (sp.GetService<LiveSettings<CompactionSettings>>() is { } source)
            live.Changed += next => source.Update(Settings(next));
        if (sp.GetService<LiveSettings<FileMetaDumpSettings>>() is { } dump)
            live.Changed += next => dump.Update(DumpSettings(next));
    }
}
