using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Files;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Storage;

namespace CuratedIndex.Features.Releases;

public sealed record PinnedFilesArgs(string Project, string Version);

/// <summary>
/// Durable work enqueued by every vetting: puts each pinned file of the release into the artifact store (verified against
/// its pinned sha256 as it streams), so tier 3 keeps installing it when upstream deletes it or is down. Idempotent: a file
/// already stored is skipped. A file upstream no longer offers with the pinned bytes cannot be fetched; that is retried.
/// </summary>
public sealed class PinnedFilesWork(CurationStore curations, ProjectPageCache pages, ArtifactFetcher fetcher, IArtifactStore store, ILogger<PinnedFilesWork> logger)
    : IQueuedWork<PinnedFilesArgs>
{
    public async Task RunAsync(PinnedFilesArgs args, JobRunContext context, CancellationToken cancellationToken)
    {
        if (curations.Current.Vettings.For(args.Project, args.Version) is not { Vetted: true } vetted)
        {
            return;
        }

        var lookup = await pages.GetAsync(args.Project, cancellationToken);
        var missing = new List<string>();
        foreach (var pinned in vetted.Files.Values)
        {
            var stored = ArtifactRequest.ForPinned(args.Project, pinned);
            await using (var existing = await store.OpenAsync(stored.StoreKey, cancellationToken))
            {
                if (existing is not null)
                {
                    continue;
                }
            }

            if (lookup.Status != LookupStatus.Found
                || !lookup.Value!.FilesByName.TryGetValue(pinned.Filename, out var listed)
                || !string.Equals(listed.Sha256, pinned.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                missing.Add($"{pinned.Filename}: upstream does not offer the pinned bytes now");
                continue;
            }

            var outcome = await fetcher.FetchAsync(ArtifactRequest.ForFile(args.Project, listed), null, cancellationToken);
            if (outcome.Status == FetchStatus.Failed)
            {
                missing.Add($"{pinned.Filename}: {outcome.Reason}");
            }
        }

        if (missing.Count > 0)
        {
            foreach (var problem in missing)
            {
                ReleasesLog.PinStoreFailed(logger, args.Project, problem);
            }

            // Retried with growing delays; it shows on /ui/jobs when every attempt failed.
            throw new InvalidOperationException($"pinned files of {args.Project} {args.Version} not stored: {string.Join("; ", missing)}");
        }
    }
}
