using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;

namespace MoleSignal.Gateway.Ui;

/// <summary>
/// The web UI's built files (ui/dist, embedded in this assembly by the build as <c>ui/...</c>), read once with a
/// gzip copy of each and an ETag, so serving one is a lookup.
/// </summary>
public sealed class UiAssets
{
    public sealed record Asset(byte[] Body, byte[] Gzip, string ContentType, string ETag, bool Immutable);

    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    public static UiAssets Embedded { get; } = Load(typeof(UiAssets).Assembly);

    /// <summary>The path under /ui/ (index.html for the empty path); null when the build embedded none.</summary>
    public Asset? Find(string path) => _assets.GetValueOrDefault(path.Length == 0 ? "index.html" : path);

    public Asset? Index => Find("index.html");

    private static UiAssets Load(Assembly assembly)
    {
        var types = new FileExtensionContentTypeProvider();
        var ui = new UiAssets();
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith("ui/", StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var body = new MemoryStream();
            stream.CopyTo(body);
            var bytes = body.ToArray();
            using var gz = new MemoryStream();
            using (var zip = new GZipStream(gz, CompressionLevel.SmallestSize, leaveOpen: true)) zip.Write(bytes);
            var path = name["ui/".Length..];
            ui._assets[path] = new Asset(bytes, gz.ToArray(),
                types.TryGetContentType(path, out var type) ? type : "application/octet-stream",
                "\"" + Convert.ToHexString(SHA256.HashData(bytes))[..16] + "\"",
                // Vite names what it builds under assets/ by content hash: a new build is a new name.
                Immutable: path.StartsWith("assets/", StringComparison.Ordinal));
        }
        return ui;
    }
}
