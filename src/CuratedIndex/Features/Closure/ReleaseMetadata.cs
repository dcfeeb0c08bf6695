using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using CuratedIndex.Data;
using CuratedIndex.Features.Files;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.Pep508;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Storage;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Closure;

/// <summary>
/// The dependencies one distribution file declares: where they were read (<see cref="MetadataSources"/>), the Requires-Dist
/// lines and Requires-Python; or <see cref="Problem"/>, why they cannot be known from this file. <see cref="Transient"/>
/// problems (upstream or the store failing) are worth asking again; the others belong to the bytes and never change.
/// </summary>
public sealed record FileDependencies(string? Source, IReadOnlyList<string> RequiresDist, string? RequiresPython, string? Problem, bool Transient = false)
{
    /// <summary>The project and version the bytes were read for (their metadata named them); null for results not kept.</summary>
    public (string Project, string Version)? ReadFor { get; init; }

    public static FileDependencies Failed(string problem, bool transient = false) => new(null, [], null, problem, transient);
}

public static class MetadataSources
{
    public const string Pep658 = "pep658";
    public const string Wheel = "wheel";
    public const string Sdist = "sdist";
}

/// <summary>
/// Reads a distribution file's core metadata from verified bytes only: PEP 658 <c>.metadata</c> when upstream lists it
/// with a sha256, else the wheel's <c>*.dist-info/METADATA</c>, else an sdist's <c>PKG-INFO</c> when PEP 643 says its
/// Requires-Dist is static. Every byte comes through <see cref="ArtifactFetcher"/>, which stores nothing whose sha256 differs
/// from the index's. Results are kept by the file's sha256 in memory and in <c>core_metadata</c>: the same bytes always
/// declare the same dependencies.
/// </summary>
public sealed class ReleaseMetadata(ArtifactFetcher fetcher, IServiceScopeFactory scopes, TimeProvider clock)
{
    // Metadata rows are a few hundred bytes; past this many the memory copy starts again from the database.
    private const int MaxMemoryEntries = 100_000;

    // An sdist's PKG-INFO is among its first members; a hostile archive is not walked to its end, nor decompressed
    // past this many bytes on the way to it.
    private const int MaxSdistEntries = 2_000;
    private const long MaxSdistBytes = 512L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, FileDependencies> _memory = new(StringComparer.Ordinal);

    /// <summary>The dependencies <paramref name="file"/> of <paramref name="project"/> <paramref name="version"/> declares.</summary>
    public async Task<FileDependencies> ReadAsync(string project, string version, DistributionFile file, CancellationToken cancellationToken)
    {
        if (file.Sha256?.ToLowerInvariant() is not { Length: 64 } sha256)
        {
            return FileDependencies.Failed($"upstream lists no sha256 for '{file.Filename}', so its metadata cannot be verified");
        }

        if (_memory.TryGetValue(sha256, out var known))
        {
            return ForRelease(known, project, version);
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            if (await db.CoreMetadata.AsNoTracking().FirstOrDefaultAsync(m => m.Sha256 == sha256, cancellationToken) is { } stored)
            {
                return ForRelease(Remember(sha256, FromRow(stored)), project, version);
            }
        }

        var read = await ReadFromBytesAsync(project, version, file, cancellationToken);
        if (read.Transient)
        {
            return read;
        }

        await SaveAsync(project, version, file.Filename, sha256, read, cancellationToken);
        return Remember(sha256, read with { ReadFor = (project, version) });
    }

    /// <summary>Only for the benchmark and tests: forget the memory copy, so the next read comes from the database.</summary>
    internal void ForgetMemory() => _memory.Clear();

    private FileDependencies Remember(string sha256, FileDependencies dependencies)
    {
        if (_memory.Count >= MaxMemoryEntries)
        {
            _memory.Clear();
        }

        _memory[sha256] = dependencies;
        return dependencies;
    }

    private async Task<FileDependencies> ReadFromBytesAsync(string project, string version, DistributionFile file, CancellationToken cancellationToken)
    {
        if (!DistributionFilename.TryParse(file.Filename, project, out var parsed))
        {
            return FileDependencies.Failed($"'{file.Filename}' does not parse as a distribution of '{project}'");
        }

        if (file.CoreMetadata?.GetValueOrDefault("sha256") is { Length: 64 } && ArtifactRequest.ForMetadata(project, file) is { } metadataRequest)
        {
            var fromMetadata = await WithStoredAsync(metadataRequest, async stream => Parse(await ReadBoundedAsync(stream, cancellationToken), MetadataSources.Pep658, project, version), cancellationToken);
            // A .metadata that is fine is the answer; one that is not is checked against the file itself.
            if (fromMetadata.Problem is null || fromMetadata.Transient)
            {
                return fromMetadata;
            }
        }

        return parsed.Kind switch
        {
            DistributionKind.Wheel => await WithStoredAsync(ArtifactRequest.ForFile(project, file), stream => ReadWheelAsync(stream, project, version, cancellationToken), cancellationToken),
            DistributionKind.Sdist => await WithStoredAsync(ArtifactRequest.ForFile(project, file), stream => ReadSdistAsync(stream, file.Filename, project, version, cancellationToken), cancellationToken),
            _ => FileDependencies.Failed($"'{file.Filename}' is neither a wheel nor an sdist"),
        };
    }

    // Fetches (verified against the index's sha256) when not stored yet, then reads the stored bytes.
    private async Task<FileDependencies> WithStoredAsync(ArtifactRequest request, Func<Stream, Task<FileDependencies>> read, CancellationToken cancellationToken)
    {
        var (stored, problem) = await fetcher.OpenStoredAsync(request, cancellationToken);
        if (stored is null)
        {
            return FileDependencies.Failed($"'{request.Filename}' could not be fetched: {problem}", transient: true);
        }

        await using (stored)
        {
            try
            {
                return await read(stored.Content);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or NotSupportedException)
            {
                return FileDependencies.Failed($"'{request.Filename}' is not a readable archive: {e.Message}");
            }
        }
    }

    private static async Task<FileDependencies> ReadWheelAsync(Stream stream, string project, string version, CancellationToken cancellationToken)
    {
        // ZipArchive needs to seek to the central directory; the file store's streams can, others are copied (bounded).
        var seekable = stream.CanSeek ? stream : await CopyBoundedAsync(stream, cancellationToken);
        using var zip = new ZipArchive(seekable, ZipArchiveMode.Read, leaveOpen: true);
        var candidates = zip.Entries.Where(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
        if (candidates.Count != 1)
        {
            return FileDependencies.Failed(candidates.Count == 0 ? "the wheel has no *.dist-info/METADATA" : "the wheel has more than one *.dist-info/METADATA");
        }

        if (candidates[0].Length > CoreMetadata.MaxBytes)
        {
            return FileDependencies.Failed($"the wheel's METADATA is over {CoreMetadata.MaxBytes} bytes");
        }

        await using var entry = await candidates[0].OpenAsync(cancellationToken);
        return Parse(await ReadBoundedAsync(entry, cancellationToken), MetadataSources.Wheel, project, version);
    }

    private static async Task<FileDependencies> ReadSdistAsync(Stream stream, string filename, string project, string version, CancellationToken cancellationToken)
    {
        byte[]? pkgInfo = null;
        if (filename.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            var seekable = stream.CanSeek ? stream : await CopyBoundedAsync(stream, cancellationToken);
            using var zip = new ZipArchive(seekable, ZipArchiveMode.Read, leaveOpen: true);
            if (zip.Entries.FirstOrDefault(e => IsTopLevelPkgInfo(e.FullName)) is { } entry && entry.Length <= CoreMetadata.MaxBytes)
            {
                await using var content = await entry.OpenAsync(cancellationToken);
                pkgInfo = await ReadBoundedAsync(content, cancellationToken);
            }
        }
        else if (filename.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || filename.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase))
        {
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            await using var counted = new Releases.CountingReadStream(gzip, StopPastLimit);
            await using var tar = new TarReader(counted);
            for (var count = 0; count < MaxSdistEntries && await tar.GetNextEntryAsync(cancellationToken: cancellationToken) is { } entry; count++)
            {
                if (IsTopLevelPkgInfo(entry.Name) && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is { } data)
                {
                    pkgInfo = await ReadBoundedAsync(data, cancellationToken);
                    break;
                }
            }
        }
        else
        {
            return FileDependencies.Failed($"'{filename}': only .tar.gz and .zip sdists are read for metadata");
        }

        if (pkgInfo is null)
        {
            return FileDependencies.Failed($"the sdist '{filename}' has no top-level PKG-INFO");
        }

        var read = Parse(pkgInfo, MetadataSources.Sdist, project, version, out var metadata);
        return read.Problem is null && !metadata!.RequiresDistIsStatic
            ? FileDependencies.Failed($"the sdist's PKG-INFO (Metadata-Version {metadata.MetadataVersion}) does not promise static Requires-Dist (PEP 643): its dependencies are known only after a build")
            : read;
    }

    private static void StopPastLimit(long decompressed)
    {
        if (decompressed > MaxSdistBytes)
        {
            throw new InvalidDataException($"over {MaxSdistBytes} bytes decompressed before PKG-INFO");
        }
    }

    // "pkg-1.0/PKG-INFO", also written "./pkg-1.0/PKG-INFO" by some tar tools.
    private static bool IsTopLevelPkgInfo(string path)
    {
        var relative = path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path;
        return relative.EndsWith("/PKG-INFO", StringComparison.Ordinal) && relative.Count(c => c == '/') == 1;
    }

    private static FileDependencies Parse(byte[] bytes, string source, string project, string version) => Parse(bytes, source, project, version, out _);

    // Fail closed: metadata that names another project or release is not this release's.
    private static FileDependencies Parse(byte[] bytes, string source, string project, string version, out CoreMetadata? metadata)
    {
        if (!CoreMetadata.TryParse(bytes, out metadata, out var error))
        {
            return FileDependencies.Failed($"{source} metadata does not parse: {error}");
        }

        if (ProjectName.Normalize(metadata.Name) != project || Releases.ReleaseVettings.ReleaseKey(metadata.Version) != Releases.ReleaseVettings.ReleaseKey(version))
        {
            return FileDependencies.Failed($"{source} metadata names {metadata.Name} {metadata.Version}, not {project} {version}");
        }

        return new FileDependencies(source, metadata.RequiresDist, metadata.RequiresPython, null);
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream stream, CancellationToken cancellationToken) =>
        (await CopyBoundedAsync(stream, CoreMetadata.MaxBytes, "core metadata", cancellationToken)).ToArray();

    // For stores whose streams cannot seek (none today but the contract allows it): wheels up to 512 MiB.
    private static Task<MemoryStream> CopyBoundedAsync(Stream stream, CancellationToken cancellationToken) =>
        CopyBoundedAsync(stream, 512L * 1024 * 1024, "the archive", cancellationToken);

    private static async Task<MemoryStream> CopyBoundedAsync(Stream stream, long limit, string what, CancellationToken cancellationToken)
    {
        var copy = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (copy.Length + read > limit)
            {
                throw new InvalidDataException($"{what} is over {limit} bytes");
            }

            copy.Write(chunk, 0, read);
        }

        copy.Position = 0;
        return copy;
    }

    private static FileDependencies FromRow(StoredCoreMetadata row) =>
        (row.Problem is { } problem
            ? FileDependencies.Failed(problem)
            : new FileDependencies(row.Source, (row.RequiresDist ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries), row.RequiresPython, null))
        with { ReadFor = (row.Project, row.Version) };

    // Fail closed: the same bytes listed under another project or release (not on PyPI, where digests are unique, but
    // possible on other upstreams) are not this release's metadata.
    private static FileDependencies ForRelease(FileDependencies read, string project, string version) =>
        read.ReadFor is not { } readFor || (readFor.Project == project && Releases.ReleaseVettings.ReleaseKey(readFor.Version) == Releases.ReleaseVettings.ReleaseKey(version))
            ? read
            : FileDependencies.Failed($"these bytes were read as {readFor.Project} {readFor.Version}; they are not taken as {project} {version}");

    private async Task SaveAsync(string project, string version, string filename, string sha256, FileDependencies read, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var problem = read.Problem is { Length: > 2000 } text ? text[..2000] : read.Problem;
        // Two readers of the same bytes write the same row: the second one's insert is simply skipped.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO core_metadata (sha256, project, version, filename, source, requires_dist, requires_python, problem, read_at)
            VALUES ({sha256}, {project}, {version}, {filename}, {read.Source ?? "none"}, {string.Join('\n', read.RequiresDist)}, {read.RequiresPython}, {problem}, {clock.GetUtcNow().UtcDateTime})
            ON CONFLICT (sha256) DO NOTHING
            """, cancellationToken);
    }
}
