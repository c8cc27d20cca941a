using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MoleSignal.Grains.Storage;

/// <summary>The syncs .NET does not offer: fdatasync, and fsync of a directory (a rename or a new file is only
/// durable once its directory entry is).</summary>
public static class Fsync
{
    /// <param name="dataOnly">fdatasync (file data and the metadata needed to read it) instead of fsync.</param>
    public static void File(SafeFileHandle handle, bool dataOnly)
    {
        var fd = (int)handle.DangerousGetHandle();
        if ((dataOnly ? fdatasync(fd) : fsync(fd)) != 0)
            throw new IOException($"{(dataOnly ? "fdatasync" : "fsync")} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Makes the directory's entries durable; a failure is an <see cref="IOException"/>.</summary>
    public static void Directory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = open(dir, 0 /* O_RDONLY */);
        if (fd < 0)
            throw new IOException($"cannot open directory {dir} to sync it: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (fsync(fd) != 0)
                throw new IOException($"fsync of directory {dir} failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>
    /// Creates the directory and every missing parent, syncing each parent whose entries changed, so a new
    /// directory survives a crash together with what is written into it.
    /// </summary>
    public static void CreateDirectory(string dir)
    {
        var full = Path.GetFullPath(dir);
        if (System.IO.Directory.Exists(full)) return;
        var parent = Path.GetDirectoryName(full);
        if (parent is not null) CreateDirectory(parent);
        System.IO.Directory.CreateDirectory(full);
        if (parent is not null) Directory(parent);
    }

    [DllImport("libc", SetLastError = true)] private static extern int fsync(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int fdatasync(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
    [DllImport("libc")] private static extern int close(int fd);
}
