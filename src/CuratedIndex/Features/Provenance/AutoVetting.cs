using System.Globalization;
using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Provenance;

public sealed record ReleaseWorkArgs(string Project, string Version);

/// <summary>
/// Automatic vetting (actor <c>auto</c>, how <c>auto</c>): a release is vetted when its project is approved, every file upstream
/// lists for it has provenance that verified to a vetted publisher valid at the file's upload time, and the release may be
/// vetted automatically now (past its cooldown, first seen before any <c>vet-cutoff</c>, no anomaly or provenance signal:
/// <see cref="ReleaseVetting.Eligibility"/>). The files are pinned with the digests their attestations name. Idempotent: a
/// release decided already is left alone. The audit record's reason carries the evidence (publishers, log indexes).
/// </summary>
public sealed class AutoVetting(
    CurationStore curations,
    ProvenanceChecks checks,
    ReleaseVetting vetting,
    IWorkQueue work,
    IServiceScopeFactory scopes,
    TrustedRootSource root,
    TimeProvider clock,
    ILogger<AutoVetting> logger)
{
    public const string Actor = "auto";

    // Started a little after the cooldown ends, so the eligibility check at that moment is past it.
    private static readonly TimeSpan ScheduleSlack = TimeSpan.FromMinutes(1);

    public async Task<VetOutcome> TryVetAsync(string project, string version, CancellationToken cancellationToken)
    {
        await curations.RefreshAsync(cancellationToken);
        var curation = curations.Current;
        if (!curation.IsApproved(project))
        {
            return new VetOutcome(VetStatus.NotNow, $"{project} is not approved");
        }

        if (curation.Vettings.For(project, version) is { } decided)
        {
            return new VetOutcome(VetStatus.NotNow, $"{project} {version} is {decided.Describe()} already");
        }

        var publishers = curation.VettedPublishers(project);
        if (publishers.Count == 0)
        {
            return new VetOutcome(VetStatus.NotNow, $"{project} has no vetted publisher");
        }

        var (files, problem, status) = await vetting.CurrentFilesAsync(project, version, cancellationToken);
        if (problem is not null)
        {
            return new VetOutcome(status, problem);
        }

        var evidence = new List<(string Filename, AttestationEvidence Attestation)>();
        foreach (var file in files!)
        {
            var row = await checks.CheckFileAsync(project, file, cancellationToken);
            var fileProblem = StateProblem(file.Filename, row);
            AttestationEvidence? match = null;
            if (fileProblem is null && (fileProblem = Reverify(row, file, out var attestations)) is null)
            {
                fileProblem = PublisherProblem(project, file.Filename, file.UploadTime, attestations, publishers, out match);
            }

            if (fileProblem is not null)
            {
                return new VetOutcome(VetStatus.NotNow, await WithSignalsAsync(project, files!, fileProblem, cancellationToken));
            }

            evidence.Add((file.Filename, match!));
        }

        // The signals as the files are now (recorded under upstream's spelling of the version); the vetting reads them.
        await checks.RecordSignalsAsync(project, ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, files[0].Filename)) ?? version, cancellationToken);
        var outcome = await vetting.VetAsync(
            new VetRequest(
                project,
                version,
                VettingCriteria.SafeToDeploy,
                Reason(evidence),
                Actor,
                VettingHow.Auto,
                Filenames: files.Select(f => f.Filename).ToList(),
                ExpectedSha256: files.ToDictionary(f => f.Filename, f => f.Sha256!, StringComparer.Ordinal)),
            cancellationToken);
        return outcome;
    }

    /// <summary>
    /// Schedules <see cref="TryVetAsync"/> for the end of the release's cooldown, when the release could be vetted
    /// automatically (the project is approved and has a vetted publisher); the recurring job catches anything missed.
    /// </summary>
    public async Task ScheduleAsync(string project, string version, CancellationToken cancellationToken)
    {
        var curation = curations.Current;
        if (!curation.IsApproved(project) || curation.VettedPublishers(project).Count == 0 || curation.Vettings.For(project, version) is not null)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var seen = await db.SeenReleases.AsNoTracking().FirstOrDefaultAsync(r => r.Project == project && r.Version == version, cancellationToken);
        if (seen is null)
        {
            return;
        }

        var at = new DateTimeOffset(ReleaseObserver.CooldownStart(seen), TimeSpan.Zero) + curation.Policy.CooldownFor(project) + ScheduleSlack;
        work.Schedule<AutoVettingWork, ReleaseWorkArgs>(new ReleaseWorkArgs(project, version), at);
        ProvenanceLog.AutoScheduled(logger, project, version, at);
    }

    /// <summary>
    /// Null when the stored provenance <paramref name="row"/> of a file proves a publisher vetted for <paramref name="project"/>
    /// at the file's upload time (<paramref name="match"/> is the attestation that does); otherwise why it does not. Pure: the
    /// release page shows it from the stored rows without checking anything.
    /// </summary>
    public static string? FileProblem(string project, string filename, string? uploadTime, FileProvenance? row, IReadOnlyCollection<PublisherGrant> publishers, out AttestationEvidence? match)
    {
        match = null;
        return StateProblem(filename, row) ?? PublisherProblem(project, filename, uploadTime, ProvenanceChecks.EvidenceOf(row!), publishers, out match);
    }

    // Why a stored result is not a verified one, or null when it is.
    private static string? StateProblem(string filename, FileProvenance? row) =>
        row is null ? $"'{filename}': provenance not checked yet"
        : row.State != ProvenanceStateText.Verified ? $"'{filename}': provenance {row.State}{(row.Failure is null ? "" : $" ({row.Failure})")}"
        : null;

    // Null when one of the attestations proves a publisher vetted for the project, within the entry's dates both by
    // upstream's upload time and by the signed time (which upstream cannot move); otherwise why not.
    private static string? PublisherProblem(string project, string filename, string? uploadTime, IReadOnlyList<AttestationEvidence> attestations, IReadOnlyCollection<PublisherGrant> publishers, out AttestationEvidence? match)
    {
        var uploaded = UploadTime(uploadTime);
        match = attestations.FirstOrDefault(a => publishers.Any(g =>
            g.Publisher.Matches(a.Publisher, a.SignedAt) && (uploaded is null || g.Publisher.IsValidAt(uploaded.Value))));
        return match is null
            ? $"'{filename}' is published by {string.Join(", ", attestations.Select(a => a.Publisher.Canonical).Distinct())}, not by a publisher vetted for {project} at its upload time"
            : null;
    }

    // The stored result is a cache, not evidence: a row written around the application must not vet anything. The stored
    // document of a verified row is verified again now (pure, about 2 ms) against the listed name and sha256, and only
    // its fresh <paramref name="attestations"/> count.
    private string? Reverify(FileProvenance row, DistributionFile file, out IReadOnlyList<AttestationEvidence> attestations)
    {
        var again = row.Document is null || file.Sha256 is null
            ? ProvenanceVerification.Failed("no stored document to verify")
            : ProvenanceVerifier.Verify(row.Document, file.Filename, file.Sha256.ToLowerInvariant(), root.Root, clock.GetUtcNow());
        attestations = again.Attestations;
        return again.Verified ? null : $"'{file.Filename}': provenance {ProvenanceStateText.Failed} (the stored document no longer verifies: {again.Failure})";
    }

    // A refusal for one file also names the release's anomaly signals (recorded now, from the files checked so far): a
    // provenance regression or a changed publisher says more to the reviewer than the file's state alone.
    private async Task<string> WithSignalsAsync(string project, IReadOnlyList<DistributionFile> files, string reason, CancellationToken cancellationToken)
    {
        var version = ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, files[0].Filename));
        if (version is null)
        {
            return reason;
        }

        await checks.RecordSignalsAsync(project, version, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var signals = await db.ReleaseSignals.AsNoTracking().Where(s => s.Project == project && s.Version == version).OrderBy(s => s.Id).ToListAsync(cancellationToken);
        return signals.Count == 0 ? reason : $"{reason}; anomaly signals: {string.Join("; ", signals.Select(s => $"{s.Kind}: {s.Evidence}"))}";
    }

    // One line per publisher with the log entries that prove it, at most what an audit reason holds.
    private static string Reason(IReadOnlyList<(string Filename, AttestationEvidence Attestation)> evidence)
    {
        var lines = evidence
            .GroupBy(e => e.Attestation.Publisher.Canonical)
            .Select(g => $"{g.Key} for {g.Count()} file(s), {g.First().Attestation.LogOrigin} entries {string.Join(",", g.Select(e => e.Attestation.LogIndex.ToString(CultureInfo.InvariantCulture)))}"
                + (g.First().Attestation.SourceRef is { } reference ? $" ({reference})" : ""));
        return $"every file's provenance verified to a vetted publisher: {string.Join("; ", lines)}";
    }

    private static DateTimeOffset? UploadTime(string? text) =>
        ReleaseObserver.ParseUploadTime(text) is { } time ? new DateTimeOffset(time, TimeSpan.Zero) : null;
}

public sealed record ProvenanceWorkArgs(string Project, IReadOnlyList<string> Versions);

/// <summary>
/// Durable work enqueued when releases of an approved project are first seen (or gain files): their files' provenance is
/// fetched, verified and stored (signals follow once all are checked, so each is compared with the one before), then each release's
/// automatic vetting is scheduled for the end of its cooldown.
/// </summary>
public sealed class ProvenanceWork(ProvenanceChecks checks, AutoVetting auto) : IQueuedWork<ProvenanceWorkArgs>
{
    public async Task RunAsync(ProvenanceWorkArgs args, JobRunContext context, CancellationToken cancellationToken)
    {
        foreach (var version in (await checks.CheckReleasesAsync(args.Project, args.Versions, cancellationToken)).Keys)
        {
            await auto.ScheduleAsync(args.Project, version, cancellationToken);
        }
    }
}

/// <summary>Durable work scheduled for the end of a release's cooldown: vets it automatically if it qualifies then.</summary>
public sealed class AutoVettingWork(AutoVetting auto) : IQueuedWork<ReleaseWorkArgs>
{
    public Task RunAsync(ReleaseWorkArgs args, JobRunContext context, CancellationToken cancellationToken) =>
        auto.TryVetAsync(args.Project, args.Version, cancellationToken);
}

/// <summary>What one pass of automatic vetting did.</summary>
public sealed record AutoVettingSummary(int Vetted, int Waiting, IReadOnlyList<string> Reasons)
{
    /// <summary>The first twenty reasons on one line, for the log.</summary>
    public string FirstReasons => string.Join(" | ", Reasons.Take(20));
}

/// <summary>
/// The recurring pass (<c>Jobs:AutoVetting:Schedule</c>): every release upstream lists for an approved project with a vetted
/// publisher that is not decided yet is tried, so a release is vetted even when its scheduled run was lost.
/// </summary>
public sealed class AutoVettingJob(CurationStore curations, ProjectPageCache pages, AutoVetting auto, ILogger<AutoVettingJob> logger) : IScheduledJob
{
    public const string Key = "AutoVetting";
    public const string DefaultSchedule = "*/15 * * * *";

    public Task RunAsync(JobRunContext context, CancellationToken cancellationToken) => RunOnceAsync(cancellationToken);

    public async Task<AutoVettingSummary> RunOnceAsync(CancellationToken cancellationToken)
    {
        await curations.RefreshAsync(cancellationToken);
        var curation = curations.Current;
        var projects = curation.Policy.Publishers.Keys.Concat(curation.Publishers.ByProject.Keys)
            .Distinct(StringComparer.Ordinal)
            .Where(curation.IsApproved)
            .Order(StringComparer.Ordinal);
        int vetted = 0, waiting = 0;
        var reasons = new List<string>();
        foreach (var project in projects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lookup = await pages.GetAsync(project, cancellationToken);
            if (lookup.Status != LookupStatus.Found)
            {
                reasons.Add($"{project}: upstream {(lookup.Status == LookupStatus.NotFound ? "has no such project" : "is unavailable")}");
                continue;
            }

            var versions = lookup.Value!.Page.Files
                .Where(f => f.Provenance is not null)
                .Select(f => ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, f.Filename)))
                .OfType<string>()
                .Distinct(StringComparer.Ordinal)
                .Where(v => curations.Current.Vettings.For(project, v) is null);
            foreach (var version in versions)
            {
                var outcome = await auto.TryVetAsync(project, version, cancellationToken);
                if (outcome.Status == VetStatus.Vetted)
                {
                    vetted++;
                }
                else
                {
                    waiting++;
                    reasons.Add($"{project} {version}: {outcome.Message}");
                }
            }
        }

        var summary = new AutoVettingSummary(vetted, waiting, reasons);
        ProvenanceLog.AutoPass(logger, vetted, waiting, summary.FirstReasons);
        return summary;
    }
}
