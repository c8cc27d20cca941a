namespace MoleSignal.Tests.Support;

/// <summary>
/// The npm test helpers under tests/ (S3 server, azurite, GCS emulator, Loki client): each directory holds its own
/// package-lock.json, and its node_modules comes from the npm registry, never from outside the repository.
/// </summary>
public static class NpmPackages
{
    /// <summary>tests/{name} of this checkout, found above the test assembly.</summary>
    public static string TestsDir(string name)
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "tests", name, "package.json")))
            dir = Path.GetDirectoryName(dir);
        return dir is null
            ? throw new InvalidOperationException($"tests/{name} not found above {AppContext.BaseDirectory}")
            : Path.Combine(dir, "tests", name);
    }

    /// <summary>ui/ of this checkout (the web UI; its node_modules installed by the build), found above the test
    /// assembly.</summary>
    public static string UiDir()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "ui", "package.json"))) dir = Path.GetDirectoryName(dir);
        return dir is null
            ? throw new InvalidOperationException($"ui/ not found above {AppContext.BaseDirectory}")
            : Path.Combine(dir, "ui");
    }

    /// <summary>
    /// Runs <c>npm ci</c> unless the install is whole: npm writes node_modules/.package-lock.json last, so its absence
    /// means an install never finished (or never ran), and an older one means the lockfile changed since.
    /// </summary>
    public static async Task EnsureInstalledAsync(string dir)
    {
        var done = new FileInfo(Path.Combine(dir, "node_modules", ".package-lock.json"));
        if (done.Exists && done.LastWriteTimeUtc >= File.GetLastWriteTimeUtc(Path.Combine(dir, "package-lock.json")))
            return;
        using var npm = new ChildProcess("npm", ["ci", "--no-audit", "--no-fund"], dir);
        if (await npm.WaitForExitAsync(TimeSpan.FromMinutes(10)) != 0)
            throw new InvalidOperationException($"npm ci in {dir} failed: {npm.Output}");
    }
}
