using MoleSignal.Grains;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Syslog;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Columnar;
using MoleSignal.Grains.Index;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Wal;
using MoleSignal.Silo.Config;

namespace MoleSignal.Silo.Startup;

/// <summary>Config to the ingest engine's settings, and the services the write path needs.</summary>
public static class IngestWiring
{
    public static IngestSettings Settings(MoleSignalConfig c) => new(
        new WalSettings(c.Wal.Dir, (long)c.Wal.SegmentSizeMb << 20, WalSettings.ParseStrategy(c.Wal.FlushStrategy), WalSettings.ParseSync(c.Wal.SyncLevel)),
        (long)c.Ingester.BufferMaxMb << 20,
        TimeSpan.FromSeconds(c.Ingester.FlushIntervalSecs),
        (long)c.Ingester.FlushThresholdMb << 20,
        new FieldPatterns(c.Ingester.FullTextFields),
        new FieldPatterns(c.Ingester.IdFields),
        c.Ingester.MaxStreamFields,
        c.Ingester.MaxFlushAttempts,
        TimeSpan.FromSeconds(c.Ingester.IdempotencyWindowSecs));

    public static IngestLimits Limits(MoleSignalConfig c) => new(
        MaxColumns: c.Ingester.MaxColumns,
        MaxRecordBytes: c.Ingester.MaxRecordKb * 1024,
        MaxNestingDepth: c.Ingester.MaxNestingDepth,
        FlattenLevel: c.Ingester.FlattenLevel,
        MaxBodyBytes: (long)c.Http.MaxBodyMb << 20,
        MaxRequestFields: c.Ingester.MaxRequestFields,
        AllowedPastHours: c.Ingester.AllowedPastHours,
        AllowedFutureHours: c.Ingester.AllowedFutureHours);

    public static IServiceCollection AddIngest(this IServiceCollection s, MoleSignalConfig config)
    {
        var settings = new LiveSettings<IngestSettings>(Settings(config));
        s.AddSingleton(settings);
        s.AddSingleton<IngestMemory>();
        s.AddSingleton(new FlushScheduler(config.Ingester.FlushParallelism));
        s.AddSingleton<StreamMetaStore>();
        s.AddSingleton<IngestKeyStore>();
        s.AddSingleton<DumpedPartitionStore>();
        s.AddSingleton<ManifestStore>();
        s.AddSingleton<FileIndex>();
        s.AddSingleton(new ParquetEncoder(Path.Combine(config.Node.DataDir, "flush-tmp"), config.Ingester.FlushParallelism));
        s.AddSingleton<StreamFlusher>();
        s.AddSingleton<FlushQuarantine>();
        s.AddSingleton<WalRecovery>();
        s.AddSingleton<NodeDrain>();
        s.AddSingleton<INodeDrain>(sp => sp.GetRequiredService<NodeDrain>());
        s.AddSingleton<IStreamCatalog, StreamCatalog>();
        s.AddSingleton(sp => new IngestLimitsSource(() => Limits(sp.GetRequiredService<LiveConfig>().Current)));
        s.AddSingleton<IngestPipeline>();
        return s;
    }

    /// <summary>The syslog listener, when a port is set.</summary>
    public static IServiceCollection AddSyslog(this IServiceCollection s, MoleSignalConfig config)
    {
        var c = config.Syslog;
        if (c.TcpPort == 0 && c.UdpPort == 0) return s;
        s.AddSingleton(new SyslogOptions(c.Bind, c.TcpPort, c.UdpPort, c.Org, c.Stream, c.MaxMessageKb * 1024));
        s.AddHostedService<SyslogListener>();
        return s;
    }

    /// <summary>Mutable ingest keys follow config reloads.</summary>
    public static void FollowReloads(IServiceProvider sp)
    {
        var live = sp.GetRequiredService<LiveConfig>();
        var settings = sp.GetRequiredService<LiveSettings<IngestSettings>>();
        live.Changed += next => settings.Update(Settings(next));
    }
}
