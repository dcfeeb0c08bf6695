using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Hosting;

/// <summary>
/// Anonymous files in memory (Linux memfd_create(2)): bytes that live outside the managed heap, in pages the kernel can
/// hand to a socket with sendfile(2) instead of copying them (<see cref="DirectSend"/>). Freed when the last handle closes.
/// </summary>
public static class MemoryFile
{
    private const uint CloseOnExec = 1; // MFD_CLOEXEC

    /// <summary>
    /// A read-only stream over a new memory file holding <paramref name="bytes"/>, opened for asynchronous use (as
    /// <see cref="System.Net.Sockets.SendPacketsElement"/> requires); null where memory files are not available.
    /// Reads address it by offset only, so concurrent sends may share it.
    /// </summary>
    public static FileStream? TryCreate(ReadOnlySpan<byte> bytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var fd = NativeMethods.MemfdCreate("curated-index-document", CloseOnExec);
        if (fd < 0)
        {
            return null;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            RandomAccess.Write(handle, bytes, 0);
            // Opened again through /proc: a descriptor of our own, read-only and flagged for asynchronous use.
            return new FileStream($"/proc/self/fd/{fd}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // /proc refused, no memory or no descriptors left: the caller keeps the bytes in managed memory.
            return null;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "memfd_create", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        public static extern int MemfdCreate([MarshalAs(UnmanagedType.LPStr)] string name, uint flags);
    }
}
