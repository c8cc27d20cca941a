using MoleSignal.Grains.Abstractions.Ingest;
using MoleSignal.Grains.Metadata;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Tests.Compaction;

/// <summary>
/// A dump stopped at each of its steps, on a real SQLite metadata store and local object store: whatever step it
/// died after, a partition's files are found exactly once, and an uncommitted manifest is queued to be deleted.
/// </summary>
public sealed class FileMetaDumpCrashTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("ms-dumpcrash");
    private MetaStore _meta = null!;
    private StreamMetaStore _streams = null!;
    private DumpedPartitionStore _dumps = null!;
    private FileIndex _index = null!;
    private ManifestStore _manifests = null!;
    private static readonly StreamKey Key = new("default", "logs", "app");
    private const long Day = 20_000;

    public async Task InitializeAsync()
    {
        _meta = MetaStore.Sqlite(Path.Combine(_dir.Path, "meta.db"));
        await MigrationRunner.ApplyAsync(_meta);
        _streams = new StreamMetaStore(_meta);
        _dumps = new DumpedPartitionStore(_meta);
        _manifests = new ManifestStore(new LocalObjectStore(Path.Combine(_dir.Path, "objects")));
        _index = new FileIndex(_streams, _dumps, _manifests);
        var files = Enumerable.Range(0, 3).Select(i => new FileMeta($"f{i}", $"default/logs/app/d/f{i}.parquet",
            $"default/logs/app/d/f{i}.idx", Partitions.DayStart(Day) + i * 1000,
            Partitions.DayStart(Day) + i * 1000 + 999,
            10 + i, 100, 50, 5, i * 10L, i * 10L + 9)).ToList();
        await _streams.EnsureAsync(Key);
        await _streams.CommitFlushAsync(Key, files, [new SchemaField("level", "utf8")], 29);
    }

    public async Task DisposeAsync()
    {
        await _meta.DisposeAsync();
        _dir.Dispose();
    }

    private static Task<bool> Always(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction t,
        CancellationToken ct) => Task.FromResult(true);

    private async Task<string[]> FoundAsync() =>
        (await _index.FilesAsync(Key, long.MinValue, long.MaxValue)).Select(f => f.FileId).Order().ToArray();

    private async Task<long> QueuedAsync(string key) =>
        Convert.ToInt64(await _meta.ScalarAsync("SELECT COUNT(*) FROM file_deletions WHERE object_key = @k", default,
            ("k", key)));

    [Fact]
    public async Task Every_step_of_a_dump_leaves_each_file_found_once()
    {
        var p = new PartitionKey(Key, Day);
        var files = await _streams.DayFilesAsync(p);
        string[] all = ["f0", "f1", "f2"];
        Assert.Equal(all, await FoundAsync());

        // Died after the guard, and after the manifest write: the rows are still live, the manifest an orphan
        // queued for deletion.
        var orphan = ManifestStore.KeyFor(p, 1);
        await _dumps.GuardAsync(orphan, 0);
        Assert.Equal(all, await FoundAsync());
        await _manifests.WriteAsync(orphan, files, default);
        Assert.Equal(all, await FoundAsync());
        Assert.Equal(1, await QueuedAsync(orphan));

        // A dump that finds a file gone by its commit (merged meanwhile) changes nothing.
        var key = ManifestStore.KeyFor(p, 2);
        await _dumps.GuardAsync(key, 0);
        await _manifests.WriteAsync(key, files, default);
        var stale = files.Append(files[0] with { FileId = "merged-away" }).ToList();
        Assert.False(await _dumps.CommitDumpAsync(p, stale, key, 2, Always));
        Assert.Equal(all, await FoundAsync());

        // The commit: the rows leave file_meta, the manifest answers for them, its key leaves the queue.
        Assert.True(await _dumps.CommitDumpAsync(p, files, key, 2, Always));
        Assert.Empty(await _streams.FilesAsync(Key));
        Assert.Equal(all, await FoundAsync());
        Assert.Equal(0, await QueuedAsync(key));
        Assert.Equal(1, await QueuedAsync(orphan));
        var totals = await _streams.TotalsAsync(Key);
        Assert.Equal((33L, 3L), (totals.Rows, totals.Files));
        // Recovery sees the dumped files' WAL runs.
        Assert.Equal([(0L, 9L), (10L, 19L), (20L, 29L)],
            (await _index.FlushedRangesAsync(Key, 0, 100)).Order().ToArray());

        // A restore (one transaction): live again, the manifest queued.
        Assert.True(await _index.RestoreAsync(p, 77, Always));
        Assert.Equal(all, (await _streams.FilesAsync(Key)).Select(f => f.FileId).Order().ToArray());
        Assert.Equal(all, await FoundAsync());
        Assert.Equal(1, await QueuedAsync(key));
        Assert.True(await _index.RestoreAsync(p, 77, Always)); // nothing dumped: nothing to do
    }
}
