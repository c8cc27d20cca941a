using System.Collections.Concurrent;
using MoleSignal.Grains.Abstractions.Query;
using MoleSignal.Grains.Storage;

namespace MoleSignal.Grains.Query;

/// <summary>
/// Data files as local paths for the engine: the local store's own files, or remote objects fetched into a
/// byte-bounded cache directory (least recently used evicted first).
/// </summary>
public sealed class ObjectFiles
{
    private readonly IObjectStore _store;
    private readonly string? _localRoot;
    private readonly string _cacheDir;
    private readonly long _cacheBytes;
    private readonly SemaphoreSlim _evict = new(1, 1);
    private readonly ConcurrentDictionary<string, int> _pinned = new();

    public ObjectFiles(IObjectStore store, string cacheDir, long cacheBytes)
    {
        _store = store;
        _localRoot = LocalObjectStore.RootOf(store);
        _cacheDir = Path.GetFullPath(cacheDir);
        _cacheBytes = cacheBytes;
    }

    /// <summary>The directory under which every file of <paramref name="org"/> lives (the engine may read only there).</summary>
    public string OrgDirectory(string org) => Path.Combine(_localRoot ?? _cacheDir, org) + Path.DirectorySeparatorChar;

    /// <summary>
    /// A local path for the object, pinned (never evicted) until <see cref="Unpin"/>: a running query's files
    /// stay on disk even when they alone exceed the cache bound.
    /// </summary>
    public async Task<string> PathAsync(string key, CancellationToken ct)
    {
        var path = Path.Combine(_localRoot ?? _cacheDir, key);
        _pinned.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (_localRoot is not null) return path;
        if (File.Exists(path))
        {
            QueryMetrics.CacheHits.Inc();
            File.SetLastAccessTimeUtc(path, DateTime.UtcNow);
            return path;
        }
        QueryMetrics.CacheMisses.Inc();
        var bytes = await _store.GetAsync(key, ct) ?? throw new FileNotFoundException($"object {key} is missing from the store");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".part-" + Guid.NewGuid().ToString("N");
        await File.WriteAllBytesAsync(temp, bytes, ct);
        File.Move(temp, path, overwrite: true);
        QueryMetrics.CacheBytes.Inc(bytes.Length);
        await EvictAsync();
        return path;
    }

    /// <summary>Local paths of a scan's files, each with the rows to read of it; every path is pinned and added to <paramref name="pinned"/>.</summary>
    public async Task<List<(string Path, long[]? Rows)>> PinAsync(IEnumerable<ScanFile> scan, List<string> pinned, CancellationToken ct)
    {
        var local = new List<(string, long[]?)>();
        foreach (var f in scan)
        {
            var path = await PathAsync(f.ObjectKey, ct);
            pinned.Add(path);
            local.Add((path, f.Rows));
        }
        return local;
    }

    public void Unpin(IEnumerable<string> paths)
    {
        foreach (var p in paths)
            if (_pinned.AddOrUpdate(p, 0, (_, n) => n - 1) <= 0) _pinned.TryRemove(new KeyValuePair<string, int>(p, 0));
        if (_localRoot is null) _ = EvictAsync();
    }

    /// <summary>Whether a running query on this node reads the object (its deletion must wait).</summary>
    public bool IsPinned(string key) => _pinned.ContainsKey(Path.Combine(_localRoot ?? _cacheDir, key));

    private async Task EvictAsync()
    {
        if (!await _evict.WaitAsync(0)) return;
        try
        {
            var files = new DirectoryInfo(_cacheDir).EnumerateFiles("*", SearchOption.AllDirectories).ToList();
            var total = files.Sum(f => f.Length);
            foreach (var f in files.OrderBy(f => f.LastAccessTimeUtc))
            {
                if (total <= _cacheBytes) break;
                if (_pinned.ContainsKey(f.FullName) || f.Name.Contains(".part-")) continue;
                total -= f.Length;
                QueryMetrics.CacheEvictions.Inc();
                QueryMetrics.CacheBytes.Dec(f.Length);
                f.Delete();
            }
        }
        finally
        {
            _evict.Release();
        }
    }
}
