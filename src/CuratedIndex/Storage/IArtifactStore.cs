using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Storage;

/// <summary>
/// Where distribution files live once verified. Keys are relative paths made by the proxy
/// (never by upstream input) such as <c>files/six/six-1.17.0-py2.py3-none-any.whl</c>.
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Opens a committed artifact for reading, or returns null when there is none. The stream is seekable. A store that
    /// cannot be asked (unreachable, its bucket missing) throws <see cref="ArtifactStoreUnavailableException"/>: never
    /// answered as a missing artifact, so opening a key that does not exist doubles as a readiness probe.
    /// </summary>
    Task<StoredObject?> OpenAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Starts writing an artifact. Nothing is visible under <paramref name="key"/> until
    /// <see cref="IArtifactWrite.CommitAsync"/> succeeds; disposing an uncommitted write MUST discard it,
    /// so a partial or unverified file is never stored or served.
    /// </summary>
    Task<IArtifactWrite> BeginWriteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes a committed artifact so it is no longer served; removing one that is not there is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An open artifact: a seekable content stream plus what HTTP validators need.</summary>
public sealed record StoredObject(Stream Content, long Length, DateTimeOffset LastModified) : IAsyncDisposable
{
    /// <summary>
    /// The open local file behind <see cref="Content"/>, when the store keeps artifacts as files: readers may read it at an
    /// offset (<see cref="RandomAccess"/>) instead of through the stream. Null for stores without local files (S3).
    /// Owned by <see cref="Content"/>: disposed with it.
    /// </summary>
    public SafeFileHandle? LocalFile { get; init; }

    /// <summary>
    /// Makes a URL that reads this artifact without credentials until the given time has passed, when the store has such
    /// URLs (S3); null otherwise. Travels with the object, so a store wrapped by another (telemetry) keeps the ability.
    /// </summary>
    public Func<TimeSpan, Task<string>>? PresignedReadUrl { get; init; }

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>An artifact being written. Write to <see cref="Content"/>, then commit atomically or dispose to discard.</summary>
public interface IArtifactWrite : IAsyncDisposable
{
    Stream Content { get; }

    Task CommitAsync(CancellationToken cancellationToken);
}
