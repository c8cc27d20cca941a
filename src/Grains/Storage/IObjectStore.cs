namespace MoleSignal.Grains.Storage;

/// <summary>Immutable objects by key (<c>{org}/{type}/{stream}/{date}/{file-id}</c>). Keys use '/' and no '..'.</summary>
public interface IObjectStore
{
    /// <summary>Short name for metrics and logs: local, s3 ...</summary>
    string Backend { get; }

    /// <summary>Writes the whole object; readers see the old object or the new one, never a part.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>Writes the file's content as the object, as <see cref="PutAsync"/> does; the file is used up (a local
    /// store moves it into place, so it must be the caller's own scratch file).</summary>
    Task PutFileAsync(string key, string path, CancellationToken ct = default);

    /// <summary>The object's bytes, or null when it does not exist.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Up to <paramref name="length"/> bytes from <paramref name="offset"/>: fewer at the object's end, none past it;
    /// null when the object does not exist. Backends read just the range; this fallback reads the whole object.
    /// </summary>
    async Task<byte[]?> GetRangeAsync(string key, long offset, int length, CancellationToken ct = default)
    {
        var all = await GetAsync(key, ct);
        return all is null ? null : ObjectRange.Cut(all, offset, length);
    }

    /// <summary>Deleting a missing object is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct = default);

    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct = default);
}

public sealed record ObjectInfo(string Key, long Size);

public static class ObjectRange
{
    /// <summary>
    /// Bytes [offset, offset + length) of a whole object, fewer at its end, none past it: what a range get returns
    /// when the store (or a server that ignores ranges) hands over the whole object.
    /// </summary>
    public static byte[] Cut(ReadOnlySpan<byte> whole, long offset, int length) =>
        offset >= whole.Length ? [] : whole.Slice((int)offset, (int)Math.Min(length, whole.Length - offset)).ToArray();
}
