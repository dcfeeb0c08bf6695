using CuratedIndex.Hosting;
using System.Security.Cryptography;
using CuratedIndex.Data;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Files;

/// <summary><c>Jobs:Scrub</c>: the artifact scrubbing job (its schedule is <c>Jobs:Scrub:Schedule</c>).</summary>
public sealed class ScrubOptions
{
    public const string Section = "Jobs:Scrub";

    /// <summary>Artifacts read from the database at a time.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>An artifact verified more recently than this is skipped, so a retried or repeated run does no work twice.</summary>
    public TimeSpan ReverifyAfter { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>
/// Re-hashes stored artifacts. One that no longer matches its sha256 (or is gone) is removed from service and recorded as a
/// <see cref="IncidentKind.ScrubMismatch"/> incident, then re-fetched through <see cref="ArtifactFetcher"/> when upstream still
/// lists the same file with the same sha256; otherwise it stays missing and the incident says so.
/// </summary>
internal sealed class ArtifactScrubJob(
    CuratedIndexDbContext db,
    IArtifactStore store,
    ProjectPageCache pages,
    ArtifactFetcher fetcher,
    IJobProgress progress,
    IOptions<ScrubOptions> options,
    TimeProvider clock,
    ILogger<ArtifactScrubJob> logger) : IScheduledJob
{
    public const string Key = "Scrub";

    public async Task RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        var cutoff = (clock.GetUtcNow() - options.Value.ReverifyAfter).UtcDateTime;
        var due = db.StoredArtifacts.Where(a => a.VerifiedAt == null || a.VerifiedAt < cutoff);
        var total = await due.LongCountAsync(cancellationToken);
        long done = 0, lastId = 0;
        int verified = 0, mismatched = 0, refetched = 0;
        await progress.ReportAsync(context, 0, total, cancellationToken);
        while (true)
        {
            var batch = await due.Where(a => a.Id > lastId).OrderBy(a => a.Id).Take(options.Value.BatchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var artifact in batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                lastId = artifact.Id;
                switch (await ScrubAsync(artifact, cancellationToken))
                {
                    case Outcome.Verified:
                        verified++;
                        break;
                    case Outcome.Refetched:
                        mismatched++;
                        refetched++;
                        break;
                    default:
                        mismatched++;
                        break;
                }

                await progress.ReportAsync(context, ++done, Math.Max(total, done), cancellationToken);
            }

            db.ChangeTracker.Clear();
        }

        JobsLog.ScrubFinished(logger, verified, mismatched, refetched);
        JobRunRecorder.SetResult(context, $"{verified} verified, {mismatched} mismatched, {refetched} re-fetched");
    }

    private async Task<Outcome> ScrubAsync(StoredArtifact artifact, CancellationToken cancellationToken)
    {
        var actual = await HashAsync(artifact.StorageKey, cancellationToken);
        if (actual is { } found && Matches(found, artifact))
        {
            artifact.VerifiedAt = clock.GetUtcNow().UtcDateTime;
            await db.SaveChangesAsync(cancellationToken);
            return Outcome.Verified;
        }

        // Out of service first: the store key is what the file endpoint serves, and the row lets the re-fetch record it anew.
        await store.DeleteAsync(artifact.StorageKey, cancellationToken);
        db.StoredArtifacts.Remove(artifact);
        var detail = actual is { } bad
            ? $"stored bytes of '{artifact.Filename}' hash to sha256 {bad.Sha256} ({bad.Size} bytes); recorded sha256 {artifact.Sha256} ({artifact.Size} bytes); removed from service"
            : $"'{artifact.Filename}' (sha256 {artifact.Sha256}) is missing from the artifact store";
        var incident = new Incident
        {
            Kind = IncidentKind.ScrubMismatch,
            Project = artifact.Project,
            Filename = artifact.Filename,
            Detail = detail,
            OccurredAt = clock.GetUtcNow(),
        };
        db.Incidents.Add(incident);
        await db.SaveChangesAsync(cancellationToken);
        JobsLog.ScrubMismatch(logger, artifact.Filename, detail);

        var (refetched, result) = await RefetchAsync(artifact, cancellationToken);
        incident.Detail = Truncate($"{detail}; {result}");
        await db.SaveChangesAsync(cancellationToken);
        return refetched ? Outcome.Refetched : Outcome.Missing;
    }

    private async Task<(bool Refetched, string Result)> RefetchAsync(StoredArtifact artifact, CancellationToken cancellationToken)
    {
        const string Missing = "left missing";
        var lookup = await pages.GetAsync(artifact.Project, cancellationToken);
        if (lookup.Value is not { } page)
        {
            return (false, $"upstream project page unavailable ({lookup.Reason ?? lookup.Status.ToString()}); {Missing}");
        }

        var isMetadata = artifact.Filename.EndsWith(ArtifactRequest.MetadataSuffix, StringComparison.Ordinal);
        var distribution = isMetadata ? artifact.Filename[..^ArtifactRequest.MetadataSuffix.Length] : artifact.Filename;
        if (!page.FilesByName.TryGetValue(distribution, out var file))
        {
            return (false, $"upstream no longer lists the file; {Missing}");
        }

        var offered = isMetadata
            ? file.CoreMetadata?.GetValueOrDefault("sha256")
            : file.Sha256;
        if (!string.Equals(offered, artifact.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return (false, $"upstream now lists sha256 {offered ?? "(none)"}, not the recorded one; {Missing}");
        }

        // The same request a client's download makes, re-filling the recorded object under its recorded key.
        var request = (isMetadata ? ArtifactRequest.ForMetadata(artifact.Project, file)! : ArtifactRequest.ForFile(artifact.Project, file))
            with { StoreKey = artifact.StorageKey, ExpectedSha256 = artifact.Sha256 };
        var outcome = await fetcher.FetchAsync(request, client: null, cancellationToken);
        if (outcome.Status == FetchStatus.Failed)
        {
            return (false, $"re-fetch failed: {outcome.Reason}; {Missing}");
        }

        // The fetcher verified the bytes before committing; read them back once more before calling it repaired.
        var stored = await HashAsync(artifact.StorageKey, cancellationToken);
        if (stored is not { } again || !string.Equals(again.Sha256, artifact.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            await store.DeleteAsync(artifact.StorageKey, cancellationToken);
            return (false, $"re-fetched bytes did not verify in the store; {Missing}");
        }

        // Only the object just re-fetched (its row, re-recorded by the fetcher under the same key): another row with the
        // same filename is another object (other bytes, other key) and still has to be hashed itself.
        var now = clock.GetUtcNow().UtcDateTime;
        await db.StoredArtifacts.Where(a => a.StorageKey == artifact.StorageKey)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.VerifiedAt, now), cancellationToken);
        return (true, "re-fetched from upstream and verified");
    }

    private async Task<(string Sha256, long Size)?> HashAsync(string key, CancellationToken cancellationToken)
    {
        var stored = await store.OpenAsync(key, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        await using (stored)
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long size = 0;
            int read;
            while ((read = await stored.Content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                size += read;
            }

            return (Convert.ToHexStringLower(sha.GetHashAndReset()), size);
        }
    }

    private static bool Matches((string Sha256, long Size) actual, StoredArtifact artifact) =>
        string.Equals(actual.Sha256, artifact.Sha256, StringComparison.OrdinalIgnoreCase) && actual.Size == artifact.Size;

    private static string Truncate(string text) => text.Length > 2000 ? text[..2000] : text;

    private enum Outcome
    {
        Verified,
        Refetched,
        Missing,
    }
}

public static class ArtifactScrubRegistration
{
    public static void AddArtifactScrubbing(this IServiceCollection services)
    {
        services.AddValidatedOptions<ScrubOptions>(ScrubOptions.Section);
        services.AddCuratedIndexJob<ArtifactScrubJob>(
            ArtifactScrubJob.Key,
            "Re-hashes stored artifacts; a mismatch is removed from service, recorded as an incident and re-fetched when upstream still has the same bytes.",
            "0 3 * * *");
    }
}
