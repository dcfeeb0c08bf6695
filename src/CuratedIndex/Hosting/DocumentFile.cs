namespace CuratedIndex.Hosting;

/// <summary>
/// Files that hold a rendered document's bytes outside the managed heap, in pages the kernel hands to a socket with
/// sendfile(2) instead of copying them (<see cref="DirectSend"/>). Each is created under <c>Cache:Path/documents</c>,
/// opened, and unlinked at once: nameless, in the page cache (evictable, written back under memory pressure), gone when
/// its last handle closes, never left behind by a crash. A file system's page cache is used rather than a memfd: the
/// kernel splices its large folios to the socket with less work per byte than shared memory's 4 KB pages (an A/B on the
/// 3,000-release page: 10-15% less CPU per request). Without a directory (set by the host at start-up), documents stay
/// in managed memory.
/// </summary>
public static class DocumentFile
{
    private static string? s_directory;

    /// <summary>Where documents are written (and unlinked); set once at start-up from <c>Cache:Path</c>.</summary>
    public static void UseDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var leftover in Directory.EnumerateFiles(directory, "*.document"))
        {
            // Left by a process that stopped between creating one and unlinking it.
            try
            {
                File.Delete(leftover);
            }
            catch (IOException)
            {
            }
        }

        s_directory = directory;
    }

    /// <summary>
    /// A read-only stream over a new nameless file holding <paramref name="bytes"/>, opened for asynchronous use (as
    /// <see cref="System.Net.Sockets.SendPacketsElement"/> requires); null where such files are not available.
    /// Reads address it by offset only, so concurrent sends may share it.
    /// </summary>
    public static FileStream? TryCreate(ReadOnlySpan<byte> bytes)
    {
        if (!OperatingSystem.IsLinux() || s_directory is not { } directory)
        {
            return null;
        }

        try
        {
            return InDirectory(directory, bytes);
        }
        catch (DirectoryNotFoundException)
        {
            // Removed while running (an operator clearing Cache:Path; in tests, another host's temporary directory, as the
            // directory is per process): made again, once.
            try
            {
                Directory.CreateDirectory(directory);
                return InDirectory(directory, bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No space or no descriptors left: the caller keeps the bytes in managed memory.
            return null;
        }
    }

    private static FileStream InDirectory(string directory, ReadOnlySpan<byte> bytes)
    {
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.document");
        try
        {
            using (var writer = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                writer.Write(bytes);
            }

            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
