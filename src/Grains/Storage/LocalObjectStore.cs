using System.Runtime.CompilerServices;

namespace MoleSignal.Grains.Storage;

/// <summary>
/// Objects as files under a root. A put writes a temp file beside the target, fsyncs it, renames it over the
/// target and fsyncs the directory, so a crash leaves the old object or the new one.
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    /// <summary>The root directory when <paramref name="store"/> is (an instrumented) local store, else null.</summary>
    public static string? RootOf(IObjectStore store) =>
        (store is InstrumentedObjectStore i ? i.Inner : store) is LocalObjectStore local ? local.Root : null;

    private const string TempMarker = ".tmp-";
    private readonly string _root;

    public LocalObjectStore(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Backend => "local";

    public string Root => _root;

    /// <summary>The file is fsynced and renamed into place (copied first when it lies on another file system).</summary>
    public Task PutFileAsync(string key, string path, CancellationToken ct = default) =>
        ReplaceAsync(key, temp =>
        {
            File.Move(path, temp);
            using (var fs = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1))
                fs.Flush(flushToDisk: true);
            return Task.CompletedTask;
        });

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        ReplaceAsync(key, async temp =>
        {
            await using var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await fs.WriteAsync(data, ct);
            fs.Flush(flushToDisk: true);
        });

    /// <summary>Has <paramref name="writeDurably"/> put the object in a temp file beside the target, then renames it over the target.</summary>
    private async Task ReplaceAsync(string key, Func<string, Task> writeDurably)
    {
        var path = PathOf(key);
        var dir = Path.GetDirectoryName(path)!;
        Fsync.CreateDirectory(dir);
        var temp = Path.Combine(dir, "." + Path.GetFileName(path) + TempMarker + Guid.NewGuid().ToString("N"));
        try
        {
            await writeDurably(temp);
            File.Move(temp, path, overwrite: true);
            Fsync.Directory(dir);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(key), ct);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default)
    {
        try
        {
            using var file = File.OpenHandle(PathOf(key), FileMode.Open, FileAccess.Read,
                FileShare.Read | FileShare.Delete);
            var n = (int)Math.Clamp(RandomAccess.GetLength(file) - offset, 0, length);
            var buffer = new byte[n];
            for (var read = 0; read < n;)
            {
                var got = await RandomAccess.ReadAsync(file, buffer.AsMemory(read), offset + read, ct);
                if (got == 0) return buffer[..read];
                read += got;
            }
            return buffer;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
        }
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.CompletedTask;
        if (!Directory.Exists(_root)) yield break;
        // List from the deepest directory the prefix names, then filter by the full prefix.
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(start)) yield break;
        foreach (var file in Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            if (Path.GetFileName(file).Contains(TempMarker)) continue;
            var key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal))
                yield return new ObjectInfo(key, new FileInfo(file).Length);
        }
    }

    private string PathOf(string key) => Path.Combine(_root, ObjectKey.Validate(key).Replace('/', Path.DirectorySeparatorChar));

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
