using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Storage;

/// <summary>Artifacts as files under one root. Writes go to a temporary file in the same directory and are renamed on commit.</summary>
public sealed class FileSystemArtifactStore(string root) : IArtifactStore
{
    private readonly string _root = Path.GetFullPath(root);

    public Task<StoredObject?> OpenAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        SafeFileHandle file;
        try
        {
            // Not "asynchronous": on Linux that only moves each read to a thread-pool thread. Unbuffered: readers either
            // read the handle at an offset into their own buffers or ask the stream for large blocks.
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<StoredObject?>(null);
        }

        try
        {
            var length = RandomAccess.GetLength(file);
            var lastModified = File.GetLastWriteTimeUtc(file);
            var stream = new FileStream(file, FileAccess.Read, bufferSize: 0);
            return Task.FromResult<StoredObject?>(new StoredObject(stream, length, new DateTimeOffset(lastModified, TimeSpan.Zero)) { LocalFile = file });
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public Task<IArtifactWrite> BeginWriteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.partial";
        var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 81920, FileOptions.Asynchronous);
        return Task.FromResult<IArtifactWrite>(new Write(stream, temporary, path));
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
            // Gone with its directory: deleted is what was asked for (File.Delete only forgives a missing file).
        }

        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(_root, key));
        // Keys are built by the proxy from validated names; this is the last line of defence.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"storage key '{key}' escapes the storage root", nameof(key));
        }

        return path;
    }

    private sealed class Write(FileStream stream, string temporaryPath, string finalPath) : IArtifactWrite
    {
        private bool _committed;

        public Stream Content => stream;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync();
            File.Move(temporaryPath, finalPath, overwrite: true);
            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            if (!_committed)
            {
                File.Delete(temporaryPath);
            }
        }
    }
}
