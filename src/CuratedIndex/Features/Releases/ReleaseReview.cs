using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Provenance;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Releases;

/// <summary>One file of a release as a reviewer sees it: upstream's facts, when CuratedIndex first saw it, its pin, and its stored provenance.</summary>
public sealed record ReleaseFileView(string Filename, long? Size, string? Sha256, string? UploadTime, DateTime? FirstSeenAt, bool Yanked, string PinState, FileProvenanceView? Provenance = null);

/// <summary>
/// The stored provenance of one file (<c>file_provenance</c> for its filename and sha256): <see cref="State"/> is verified
/// (with what each attestation proves), failed or unavailable (with the reason), none (upstream offers none), or
/// <see cref="NotChecked"/>. Read only: showing a page never fetches or verifies anything.
/// </summary>
public sealed record FileProvenanceView(string State, string? Failure, IReadOnlyList<AttestationEvidence> Attestations, DateTime? CheckedAt)
{
    public const string NotChecked = "not-checked";

    public static FileProvenanceView Of(FileProvenance? row) => row is null
        ? new FileProvenanceView(NotChecked, null, [], null)
        : new FileProvenanceView(row.State, row.Failure, ProvenanceChecks.EvidenceOf(row), row.CheckedAt);
}

/// <summary>
/// Whether automatic vetting would vet the release at its next run, from the stored facts only (it is never run from a
/// page): the vetted publishers, and every reason it would not (empty: it would).
/// </summary>
public sealed record AutoVettingView(IReadOnlyList<PublisherGrant> Publishers, IReadOnlyList<string> WouldNot)
{
    public bool WouldVet => WouldNot.Count == 0;
}

/// <summary>What a reviewer (the release page, the API) sees about one release.</summary>
public sealed record ReleaseDetails(
    string Project,
    string Version,
    string Status,
    string? UpstreamProblem,
    SeenRelease? Seen,
    IReadOnlyList<ReleaseFileView> Files,
    ReleaseVerdict? Verdict,
    IReadOnlyList<ReleaseSignal> Signals,
    string? ReviewerWait,
    string? PolicyWait,
    long Demand,
    AutoVettingView? AutoVetting = null)
{
    /// <summary>True when neither upstream nor CuratedIndex knows the release.</summary>
    public bool Unknown => Files.Count == 0 && Seen is null && Verdict is null;
}

public static class PinState
{
    public const string Pinned = "pinned";
    public const string Mismatch = "pin-mismatch";
    public const string NotPinned = "not-pinned";
    public const string UpstreamDropped = "pinned, no longer upstream";
}

/// <summary>Reads <see cref="ReleaseDetails"/>: the one loader behind the release page and <c>GET …/releases/{version}</c>.</summary>
public sealed class ReleaseReview(ReleaseVetting vetting, CurationStore curations, IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary><paramref name="project"/> normalized, <paramref name="version"/> PEP 440 normalized.</summary>
    public async Task<ReleaseDetails> LoadAsync(string project, string version, CancellationToken cancellationToken)
    {
        var (files, upstreamProblem, _) = await vetting.CurrentFilesAsync(project, version, cancellationToken);
        if (files is { Count: > 0 })
        {
            // First sight and signals are recorded under upstream's spelling (3.6.0 when 3.6 was asked for).
            version = ReleaseVettings.NormalizeVersion(Features.SimpleIndex.SimplePageRenderer.VersionOf(project, files[0].Filename)) ?? version;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var seen = await db.SeenReleases.AsNoTracking().FirstOrDefaultAsync(r => r.Project == project && r.Version == version, cancellationToken);
        var firstSeen = await db.UpstreamFiles.AsNoTracking().Where(f => f.Project == project)
            .ToDictionaryAsync(f => f.Filename, f => f.FirstSeenAt, StringComparer.Ordinal, cancellationToken);
        var signals = await db.ReleaseSignals.AsNoTracking().Where(s => s.Project == project && s.Version == version).OrderBy(s => s.Id).ToListAsync(cancellationToken);
        var demand = await db.ReleaseRequests.AsNoTracking().Where(r => r.Project == project && r.Version == version).SumAsync(r => r.RequestCount, cancellationToken);
        var curation = curations.Current;
        var verdict = curation.Vettings.For(project, version);

        var filenames = (files ?? []).Select(f => f.Filename).Concat(verdict?.Files.Keys ?? []).Distinct(StringComparer.Ordinal).ToList();
        var provenance = await db.FileProvenances.AsNoTracking().Where(p => p.Project == project && filenames.Contains(p.Filename)).ToListAsync(cancellationToken);
        FileProvenance? StoredProvenance(string filename, string? sha256) =>
            provenance.LastOrDefault(p => p.Filename == filename && p.Sha256 == (sha256?.ToLowerInvariant() ?? UpstreamFacts.NoSha256));

        var views = (files ?? []).Select(f => new ReleaseFileView(
                f.Filename,
                f.Size,
                f.Sha256,
                f.UploadTime,
                firstSeen.TryGetValue(f.Filename, out var at) ? at : null,
                f.IsYanked,
                verdict is { Vetted: true } && verdict.Files.TryGetValue(f.Filename, out var pin)
                    ? string.Equals(pin.Sha256, f.Sha256, StringComparison.OrdinalIgnoreCase) ? PinState.Pinned : PinState.Mismatch
                    : PinState.NotPinned,
                FileProvenanceView.Of(StoredProvenance(f.Filename, f.Sha256))))
            .ToList();
        if (verdict is { Vetted: true })
        {
            // Pinned files upstream no longer lists are still part of the release tier 3 serves.
            foreach (var pinned in verdict.Files.Values.Where(p => views.All(v => v.Filename != p.Filename)))
            {
                views.Add(new ReleaseFileView(
                    pinned.Filename, pinned.Size, pinned.Sha256, null, firstSeen.TryGetValue(pinned.Filename, out var at) ? at : null, false, PinState.UpstreamDropped,
                    FileProvenanceView.Of(StoredProvenance(pinned.Filename, pinned.Sha256))));
            }
        }

        var now = clock.GetUtcNow().UtcDateTime;
        return new ReleaseDetails(
            project,
            version,
            verdict is null ? ReleaseStatus.Pending : verdict.Vetted ? ReleaseStatus.Vetted : ReleaseStatus.Rejected,
            upstreamProblem,
            seen,
            views,
            verdict,
            signals,
            ReleaseVetting.Eligibility(curation.Policy, project, seen, signals, VettingHow.Reviewer, now)?.Reason,
            ReleaseVetting.Eligibility(curation.Policy, project, seen, signals, VettingHow.Policy, now)?.Reason,
            demand,
            AutoVettingOf(curation, project, version, files, upstreamProblem, seen, signals, verdict, StoredProvenance, now));
    }

    /// <summary>
    /// What <see cref="Provenance.AutoVetting.TryVetAsync"/> would decide now, from the stored provenance and signals (no
    /// fetch, no check, nothing written); null when the project has no vetted publisher, so automatic vetting does not apply.
    /// </summary>
    private static AutoVettingView? AutoVettingOf(
        Curation curation,
        string project,
        string version,
        IReadOnlyList<Protocol.SimpleApi.DistributionFile>? files,
        string? upstreamProblem,
        SeenRelease? seen,
        IReadOnlyList<ReleaseSignal> signals,
        ReleaseVerdict? verdict,
        Func<string, string?, FileProvenance?> stored,
        DateTime now)
    {
        var publishers = curation.VettedPublishers(project);
        if (publishers.Count == 0)
        {
            return null;
        }

        var wouldNot = new List<string>();
        if (!curation.IsApproved(project))
        {
            wouldNot.Add($"{project} is not approved");
        }

        if (verdict is not null)
        {
            wouldNot.Add($"{project} {version} is {verdict.Describe()} already");
        }

        if (files is not { Count: > 0 })
        {
            wouldNot.Add(upstreamProblem ?? "upstream lists no files of this release");
        }

        foreach (var file in files ?? [])
        {
            if (Provenance.AutoVetting.FileProblem(project, file.Filename, file.UploadTime, stored(file.Filename, file.Sha256), publishers, out _) is { } problem)
            {
                wouldNot.Add(problem);
            }
        }

        if (ReleaseVetting.Eligibility(curation.Policy, project, seen, signals, VettingHow.Auto, now) is { } waiting)
        {
            wouldNot.Add(waiting.Reason);
        }

        return new AutoVettingView(publishers, wouldNot);
    }

    /// <summary>The newest vetted release of <paramref name="project"/> older than <paramref name="version"/>: what a diff compares with.</summary>
    public ReleaseVerdict? LastVettedBefore(string project, string version)
    {
        if (!Protocol.Pep440Version.TryParse(version, out var current))
        {
            return null;
        }

        return curations.Current.Vettings.Of(project).Values
            .Where(v => v.Vetted && Protocol.Pep440Version.TryParse(v.Version, out var other) && other < current)
            .MaxBy(v => Protocol.Pep440Version.Parse(v.Version));
    }
}
