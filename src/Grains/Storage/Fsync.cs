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

    public static void Directory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { fsync(fd); } finally { close(fd); }
    }

    [DllImport("libc", SetLastError = true)] private static extern int fsync(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int fdatasync(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);
    [DllImport("libc")] private static extern int close(int fd);
}
