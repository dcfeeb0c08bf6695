using CuratedIndex.Features.Files;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Storage;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Releases;

/// <summary>What the release page shows of the changes: the diff, and each archive that could not be read, with why.</summary>
public sealed record ReleaseDiffView(ReleaseDiffResult Diff, IReadOnlyList<string> Refusals, string? BaselineVersion);

/// <summary>
/// Reads a release's archives and the last vetted release's, and diffs them. Bytes come from the artifact store (a file
/// not stored yet is fetched and verified first, as a download would be); each archive is read in memory with the
/// <c>Review:Archives</c> limits, never extracted to disk, and one over a limit is listed with the reason instead.
/// </summary>
public sealed class ReleaseArchives(ProjectPageCache pages, ArtifactFetcher fetcher, IArtifactStore store, IOptions<ArchiveLimits> limits)
{
    /// <summary>At most this many archives per side: a release with dozens of platform wheels is diffed on its first ones.</summary>
    public const int MaxArchivesPerSide = 8;

    public async Task<ReleaseDiffView> DiffAsync(string project, string version, ReleaseVerdict? baseline, CancellationToken cancellationToken)
    {
        var lookup = await pages.GetAsync(project, cancellationToken);
        var listed = lookup.Value?.FilesByName;
        var refusals = new List<string>();
        var candidateFiles = (lookup.Value?.Page.Files ?? [])
            .Where(f => f.Sha256 is not null && ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, f.Filename)) == version)
            .Select(f => (f.Filename, Sha256: f.Sha256!, Listed: (DistributionFile?)f, f.Size))
            .ToList();
        var vettedFiles = (baseline?.Files.Values ?? [])
            .Select(p => (p.Filename, p.Sha256, Listed: listed?.GetValueOrDefault(p.Filename) is { } f && string.Equals(f.Sha256, p.Sha256, StringComparison.OrdinalIgnoreCase) ? f : null, Size: (long?)p.Size))
            .ToList();
        var vetted = await ReadAllAsync(project, vettedFiles, refusals, cancellationToken);
        var candidate = await ReadAllAsync(project, candidateFiles, refusals, cancellationToken);
        return new ReleaseDiffView(ReleaseDiff.Compute(vetted, candidate), refusals, baseline?.Version);
    }

    private async Task<List<ReleaseArchive>> ReadAllAsync(
        string project,
        IReadOnlyList<(string Filename, string Sha256, DistributionFile? Listed, long? Size)> files,
        List<string> refusals,
        CancellationToken cancellationToken)
    {
        var archives = new List<ReleaseArchive>();
        foreach (var (filename, sha256, listedFile, size) in files.OrderBy(f => f.Filename, StringComparer.Ordinal))
        {
            if (archives.Count >= MaxArchivesPerSide)
            {
                refusals.Add($"{filename}: not diffed (only the first {MaxArchivesPerSide} archives of a release are)");
                continue;
            }

            if (size > limits.Value.MaxTotalBytes)
            {
                refusals.Add($"{filename}: {size} bytes compressed, over Review:Archives:MaxTotalBytes ({limits.Value.MaxTotalBytes})");
                continue;
            }

            var (stored, problem) = listedFile is null
                ? (await store.OpenAsync(ArtifactRequest.ForPinned(project, new PinnedFile(filename, sha256, size ?? 0)).StoreKey, cancellationToken), "not in the artifact store, and upstream does not offer these bytes")
                : await fetcher.OpenStoredAsync(ArtifactRequest.ForFile(project, listedFile), cancellationToken);
            if (stored is null)
            {
                refusals.Add($"{filename}: {problem}");
                continue;
            }

            await using (stored)
            {
                var read = await ArchiveReader.ReadAsync(stored.Content, filename, limits.Value, cancellationToken);
                if (read.IsRefused)
                {
                    refusals.Add($"{filename}: refused: {read.Reason}");
                    continue;
                }

                archives.Add(new ReleaseArchive(filename, read.Entries));
            }
        }

        return archives;
    }
}
