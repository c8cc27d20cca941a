using System.Text;
using Microsoft.Extensions.Configuration;
using MoleSignal.Gateway.Ingest;
using MoleSignal.Gateway.Ingest.Json;
using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Cluster;
using MoleSignal.Grains.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;
using MoleSignal.Silo.Config;
using MoleSignal.Silo.Roles;
using MoleSignal.Silo.Startup;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;

namespace MoleSignal.Tests.Ingest;

/// <summary>
/// A live stream whose flush keeps failing for one entry's sake (a fault injected into the store, standing in for
/// rows the encoder rejects): after max_flush_attempts the other entries reach the files and that one goes to
/// the quarantine, and the stream keeps flushing.
/// </summary>
public sealed class FlushQuarantineTests : IAsyncLifetime
{
    private static readonly StreamKey Key = new("default", "logs", "poison");
    private readonly TempDir _dir = new("ms-quarantine");
    private MetaStore _meta = null!;
    private InProcessTestCluster _cluster = null!;
    private PoisonStore _store = null!;

    /// <summary>Fails every data-file put whose WAL range holds an activation's second entry, as an encoder would.</summary>
    private sealed class PoisonStore(IObjectStore inner) : IObjectStore
    {
        public string Backend => inner.Backend;

        private static void Check(string key)
        {
            if (!key.StartsWith("default/logs/poison/", StringComparison.Ordinal)) return;
            var parts = Path.GetFileNameWithoutExtension(key).Split('-');
            var (first, last) = (long.Parse(parts[0]), long.Parse(parts[1]));
            var poison = (first >> 32 << 32) + 1;
            if (first <= poison && poison <= last)
                throw new FlushEncodingException(new InvalidOperationException("injected: these rows cannot be encoded"));
        }

        public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            Check(key);
            return inner.PutAsync(key, data, ct);
        }

        public Task PutFileAsync(string key, string path, CancellationToken ct = default)
        {
            Check(key);
            return inner.PutFileAsync(key, path, ct);
        }

        public Task<byte[]?> GetAsync(string key, CancellationToken ct = default) => inner.GetAsync(key, ct);
        public Task DeleteAsync(string key, CancellationToken ct = default) => inner.DeleteAsync(key, ct);
        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct = default) => inner.ListAsync(prefix, ct);
    }

    public async Task InitializeAsync()
    {
        _meta = MetaStore.Sqlite(_dir.Combine("meta.db"));
        await MigrationRunner.ApplyAsync(_meta);
        _store = new PoisonStore(new LocalObjectStore(_dir.Combine("objects")));
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            var roles = new RoleSet(["standalone"]);
            var config = new MoleSignalConfig();
            config.Node.Id = "silo-0";
            config.Node.DataDir = _dir.Combine("node");
            config.Wal.Dir = _dir.Combine("node", "wal");
            config.Ingester.FlushIntervalSecs = 1;
            config.Ingester.MaxFlushAttempts = 2;
            silo.UseSiloMetadata(new Dictionary<string, string> { ["roles"] = roles.MetadataValue });
            silo.Services.AddMoleSignalPlacement();
            silo.Services.AddMoleSignalNode(config, new ConfigurationBuilder().Build(), roles, _store, new ObjectStoreProbe(_store), _meta);
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _meta.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task After_max_flush_attempts_the_bad_entry_is_quarantined_and_the_others_reach_the_files()
    {
        var grain = _cluster.Client.GetGrain<IStreamGrain>(Key.GrainKey);
        foreach (var text in new[] { "first", "poison", "third" })
        {
            using var b = new RecordBuilder(new IngestLimits(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
            Assert.Null(JsonBodyParser.Parse(Encoding.UTF8.GetBytes($"{{\"message\": \"{text}\"}}"), b));
            Assert.Equal(AppendStatus.Ok, (await grain.Append(Assert.Single(b.Build()))).Status);
        }
        var meta = new StreamMetaStore(_meta);
        await Poll.UntilAsync(async () => (await meta.FilesAsync(Key)).Sum(f => f.Rows), n => n == 2, TimeSpan.FromSeconds(60),
            "the two good entries in files");
        var quarantined = Assert.Single(Directory.GetFiles(_dir.Combine("objects", "default", "_quarantine", "logs", "poison"), "*.wal"));
        var seq = long.Parse(Path.GetFileNameWithoutExtension(quarantined).Split('-')[0]);
        Assert.Equal(1, seq & 0xFFFFFFFF); // the second entry, alone
        Assert.Contains("injected", File.ReadAllText(quarantined + ".cause.txt"));
        // The buffer is empty again and the stream goes on.
        await Poll.UntilAsync(async () => (await grain.GetBufferStats()).Records, n => n == 0, TimeSpan.FromSeconds(30), "an empty buffer");
        using var next = new RecordBuilder(new IngestLimits(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        Assert.Null(JsonBodyParser.Parse("{\"message\": \"later\"}"u8.ToArray(), next));
        Assert.Equal(AppendStatus.Ok, (await grain.Append(Assert.Single(next.Build()))).Status);
        await Poll.UntilAsync(async () => (await meta.FilesAsync(Key)).Sum(f => f.Rows), n => n == 3, TimeSpan.FromSeconds(60), "a later entry in a file");
    }
}
