using System.Globalization;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Releases;

/// <summary>A request to vet one release. <paramref name="Filenames"/> null means every file upstream lists now.</summary>
/// <param name="ExpectedSha256">Digests the caller holds (a lock file, an audits file): a file whose upstream sha256 differs is refused.</param>
/// <param name="MayBreakGlass">The caller is an admin: with <paramref name="BreakGlass"/> set, the cooldown does not stop the vetting.</param>
/// <param name="DryRun">Decide exactly as a real vetting would, but write nothing (an import's <c>--dry-run</c>).</param>
public sealed record VetRequest(
    string Project,
    string Version,
    string Criteria,
    string Reason,
    string Actor,
    string How,
    IReadOnlyCollection<string>? Filenames = null,
    IReadOnlyDictionary<string, string>? ExpectedSha256 = null,
    bool BreakGlass = false,
    bool MayBreakGlass = false,
    string? Source = null,
    bool DryRun = false);

public enum VetStatus
{
    Vetted,

    /// <summary>The request itself is wrong (an unknown file, a digest that differs from upstream's): 400.</summary>
    Refused,

    /// <summary>The release may not be vetted now (cooldown, cut-off, a signal): 409.</summary>
    NotNow,

    /// <summary>Upstream does not have the release: 404.</summary>
    NotFound,

    /// <summary>Upstream could not be asked: 502.</summary>
    UpstreamFailed,
}

public sealed record VetOutcome(VetStatus Status, string Message, ReleaseVerdict? Verdict = null);

/// <summary>
/// Vets and rejects releases: the one place a <see cref="ReleaseDecision"/> is written, with its pinned files and audit
/// record in one transaction. The files pinned are the ones upstream lists at that moment, by sha256; the cooldown, the
/// cut-off and the anomaly signals are checked here, so no path (UI, API, command line, policy, import) can skip them.
/// </summary>
public sealed class ReleaseVetting(
    ProjectPageCache pages,
    ReleaseObserver observer,
    CurationStore curations,
    AuditLog audit,
    IServiceScopeFactory scopes,
    IWorkQueue work,
    TimeProvider clock,
    ILogger<ReleaseVetting> logger)
{
    public async Task<VetOutcome> VetAsync(VetRequest request, CancellationToken cancellationToken)
    {
        var (outcome, decision) = await PrepareAsync(request, cancellationToken);
        if (decision is null)
        {
            return outcome;
        }

        var automatic = request.How is VettingHow.Policy or VettingHow.Auto;
        if (!await WriteAsync(decision, cancellationToken, automatic ? curations.Current.Vettings.LastDecisionId : null))
        {
            return new VetOutcome(VetStatus.NotNow, $"{request.Project} {decision.Version} was decided on another node meanwhile");
        }

        Committed(decision);
        var verdict = curations.Current.Vettings.For(request.Project, decision.Version);
        return new VetOutcome(VetStatus.Vetted, $"{request.Project} {decision.Version} {verdict?.Describe() ?? "vetted"}", verdict);
    }

    /// <summary>
    /// Every check of <see cref="VetAsync"/> and the decision it would write, without writing it: the outcome says why
    /// not (the decision is null then), or, for a dry run, what would be vetted. For callers that write several decisions
    /// in one transaction (vet with dependencies) with <see cref="Stage"/> and then <see cref="Committed"/>.
    /// </summary>
    public async Task<(VetOutcome Outcome, ReleaseDecision? Decision)> PrepareAsync(VetRequest request, CancellationToken cancellationToken)
    {
        if (ReleaseVettings.NormalizeVersion(request.Version) is not { } version)
        {
            return (new VetOutcome(VetStatus.Refused, $"'{request.Version}' is not a PEP 440 version"), null);
        }

        if (!VettingCriteria.IsKnown(request.Criteria))
        {
            return (new VetOutcome(VetStatus.Refused, $"criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}"), null);
        }

        var (files, problem, status) = await CurrentFilesAsync(request.Project, version, cancellationToken);
        if (problem is not null)
        {
            return (new VetOutcome(status, problem), null);
        }

        // Recorded under upstream's spelling of the version, the one its first sight and signals are recorded under.
        version = ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(request.Project, files![0].Filename)) ?? version;
        var (chosen, refused) = Select(files, request);
        if (chosen is null)
        {
            return (new VetOutcome(VetStatus.Refused, refused!), null);
        }

        var seen = await SeenAsync(request.Project, version, cancellationToken);
        var policy = curations.Current.Policy;
        var breakGlass = false;
        var automatic = request.How is VettingHow.Policy or VettingHow.Auto;
        if (Eligibility(policy, request.Project, seen, await SignalsAsync(request.Project, version, automatic, cancellationToken), request.How, clock.GetUtcNow().UtcDateTime) is { } waiting)
        {
            if (!request.BreakGlass || !waiting.BreakGlassMayOverride)
            {
                var hint = waiting.BreakGlassMayOverride && request.How == VettingHow.Reviewer
                    ? request.MayBreakGlass ? "; to vet it now, break glass with a reason" : "; an admin may break glass with a reason"
                    : "";
                return (new VetOutcome(VetStatus.NotNow, waiting.Reason + hint), null);
            }

            if (!request.MayBreakGlass)
            {
                return (new VetOutcome(VetStatus.NotNow, waiting.Reason + "; only an admin may break glass"), null);
            }

            breakGlass = true;
        }

        if (request.DryRun)
        {
            return (new VetOutcome(VetStatus.Vetted, $"{request.Project} {version} would be vetted {request.Criteria} with {string.Join(", ", chosen.Select(f => f.Filename))}"), null);
        }

        if (request.How is VettingHow.Policy or VettingHow.Auto && curations.Current.Vettings.For(request.Project, version) is { } decided)
        {
            // Decided while this pass ran (a reviewer's rejection must not be overwritten by policy).
            return (new VetOutcome(VetStatus.NotNow, $"{request.Project} {version} was {decided.Describe()} meanwhile"), null);
        }

        var decision = new ReleaseDecision
        {
            Project = request.Project,
            Version = version,
            Verdict = ReleaseVerdictText.Vetted,
            Criteria = request.Criteria,
            How = request.How,
            Actor = request.Actor,
            Reason = request.Reason,
            BreakGlass = breakGlass,
            Source = request.Source,
            ReleasedAt = seen is null ? null : ReleaseObserver.CooldownStart(seen),
            DecidedAt = clock.GetUtcNow().UtcDateTime,
            Files = chosen.Select(f => new VettedFile
            {
                Filename = f.Filename,
                Sha256 = f.Sha256!.ToLowerInvariant(),
                Size = f.Size ?? 0,
                MetadataSha256 = f.CoreMetadata?.GetValueOrDefault("sha256")?.ToLowerInvariant(),
            }).ToList(),
        };
        return (new VetOutcome(VetStatus.Vetted, $"{request.Project} {version} would be vetted {request.Criteria}"), decision);
    }

    /// <summary>Adds <paramref name="decision"/> to a caller's audit transaction and returns its audit entry.</summary>
    public static AuditEntry Stage(CuratedIndexDbContext db, ReleaseDecision decision)
    {
        db.ReleaseDecisions.Add(decision);
        return new AuditEntry(decision.Actor, ReleaseAudit.ActionOf(decision), ReleaseAudit.Subject(decision.Project, decision.Version), ReleaseAudit.ReasonOf(decision))
        {
            Recorded = record => (decision.AuditRecordId, decision.AuditHash) = (record.Id, record.Hash),
        };
    }

    /// <summary>After a vetting is committed (the caller refreshes the curation): logged, and its pinned bytes kept.</summary>
    public void Committed(ReleaseDecision decision)
    {
        ReleasesLog.Decided(logger, decision.Actor, decision.Verdict, decision.Project, decision.Version, decision.How, decision.Reason);
        // Pinned bytes are kept whatever upstream does later: store them now, as durable work.
        work.Enqueue<PinnedFilesWork, PinnedFilesArgs>(new PinnedFilesArgs(decision.Project, decision.Version));
    }

    /// <summary>Rejects a release for tier 3 (a reviewer's decision: no cooldown applies).</summary>
    public async Task<VetOutcome> RejectAsync(string project, string version, string reason, string actor, CancellationToken cancellationToken)
    {
        if (ReleaseVettings.NormalizeVersion(version) is not { } normalized)
        {
            return new VetOutcome(VetStatus.Refused, $"'{version}' is not a PEP 440 version");
        }

        var decision = new ReleaseDecision
        {
            Project = project,
            Version = normalized,
            Verdict = ReleaseVerdictText.Rejected,
            How = VettingHow.Reviewer,
            Actor = actor,
            Reason = reason,
            DecidedAt = clock.GetUtcNow().UtcDateTime,
        };
        await WriteAsync(decision, cancellationToken);
        ReleasesLog.Decided(logger, decision.Actor, decision.Verdict, decision.Project, decision.Version, decision.How, decision.Reason);
        return new VetOutcome(VetStatus.Vetted, $"{project} {normalized} rejected", curations.Current.Vettings.For(project, normalized));
    }

    /// <summary>Why a release may not be vetted now by <paramref name="how"/>, or null when it may. Pure.</summary>
    public static Waiting? Eligibility(PolicySnapshot policy, string project, SeenRelease? seen, IReadOnlyList<ReleaseSignal> signals, string how, DateTime now)
    {
        var automatic = how is VettingHow.Policy or VettingHow.Auto;
        if (automatic && signals.Count > 0)
        {
            return new Waiting($"anomaly signals stop {how} vetting: {string.Join("; ", signals.Select(s => $"{s.Kind}: {s.Evidence}"))}", false);
        }

        if (automatic && policy.VetCutoff is { } cutoff && (seen is null || seen.FirstSeenAt > cutoff))
        {
            return new Waiting($"first seen {(seen is null ? "now" : Iso(seen.FirstSeenAt))}, after the vet-cutoff {Iso(cutoff)}: no release first seen after it is vetted by policy or automatically", false);
        }

        if (how == VettingHow.Import)
        {
            // An imported vetting is another organization's reviewer decision about these exact bytes (an import never
            // pins a digest upstream does not list): the cooldown guards releases nobody has looked at yet.
            return null;
        }

        var cooldown = policy.CooldownFor(project);
        var start = seen is null ? now : ReleaseObserver.CooldownStart(seen);
        if (cooldown > TimeSpan.Zero && start + cooldown > now)
        {
            return new Waiting($"inside its cooldown of {Describe(cooldown)} until {Iso(start + cooldown)} (counted from {Iso(start)}, the later of upstream's upload time and the first sight here)", !automatic);
        }

        return null;
    }

    public sealed record Waiting(string Reason, bool BreakGlassMayOverride);

    // <paramref name="unlessDecidedAfter"/>: for policy and automatic vetting, the newest decision this node knows of. A
    // decision on the project written since (a reviewer's rejection on another node, not yet refreshed here) is found
    // inside the same transaction, and nothing is written: a person's decision is never overwritten by a machine's.
    private async Task<bool> WriteAsync(ReleaseDecision decision, CancellationToken cancellationToken, long? unlessDecidedAfter = null)
    {
        var written = await audit.WriteAsync(async db =>
        {
            if (unlessDecidedAfter is { } known && await db.ReleaseDecisions.AnyAsync(d => d.Project == decision.Project && d.Id > known, cancellationToken))
            {
                return (false, (IReadOnlyList<AuditEntry>)[]);
            }

            return (true, (IReadOnlyList<AuditEntry>)[Stage(db, decision)]);
        }, cancellationToken);
        if (!written)
        {
            await curations.RefreshAsync(CancellationToken.None);
            return false;
        }

        // Committed: take effect now, even if the caller has gone.
        await curations.RefreshAsync(CancellationToken.None);
        return true;
    }

    /// <summary>The files upstream lists now for a release, from a page no older than <c>Upstream:PageMaxAge</c>.</summary>
    public async Task<(IReadOnlyList<DistributionFile>? Files, string? Problem, VetStatus Status)> CurrentFilesAsync(string project, string version, CancellationToken cancellationToken)
    {
        var lookup = await pages.GetAsync(project, cancellationToken);
        switch (lookup.Status)
        {
            case LookupStatus.Failed:
                return (null, $"upstream is unavailable ({lookup.Reason}); files can only be pinned from upstream's current list", VetStatus.UpstreamFailed);
            case LookupStatus.NotFound:
                return (null, $"upstream has no project '{project}'", VetStatus.NotFound);
        }

        var page = lookup.Value!.Page;
        await observer.ObserveAsync(page, lookup.Stamp, cancellationToken);
        // One release whatever the spelling (1.0 and 1.0.0), as the decision function finds it.
        var key = ReleaseVettings.ReleaseKey(version);
        var files = page.Files.Where(f => ReleaseVettings.ReleaseKey(SimplePageRenderer.VersionOf(project, f.Filename)) == key).ToList();
        return files.Count == 0
            ? (null, $"upstream lists no files for {project} {version}", VetStatus.NotFound)
            : (files, null, VetStatus.Vetted);
    }

    private static (IReadOnlyList<DistributionFile>? Files, string? Problem) Select(IReadOnlyList<DistributionFile> files, VetRequest request)
    {
        var chosen = request.Filenames is null ? files.ToList() : [];
        if (request.Filenames is not null)
        {
            foreach (var name in request.Filenames.Distinct(StringComparer.Ordinal))
            {
                if (files.FirstOrDefault(f => f.Filename == name) is not { } file)
                {
                    return (null, $"'{name}' is not a file of {request.Project} {request.Version} upstream");
                }

                chosen.Add(file);
            }
        }

        foreach (var file in chosen)
        {
            if (file.Sha256 is null)
            {
                return (null, $"upstream lists no sha256 for '{file.Filename}': it cannot be pinned");
            }

            if (request.ExpectedSha256?.GetValueOrDefault(file.Filename) is { } expected && !string.Equals(expected, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"'{file.Filename}': upstream's sha256 is {file.Sha256}, not {expected.ToLowerInvariant()}; refused");
            }
        }

        return chosen.Count == 0 ? (null, "no files to vet") : (chosen, null);
    }

    /// <summary>
    /// <paramref name="version"/> as upstream spells it on <paramref name="page"/> (normalized): 3.6 asked for, 3.6.0 listed,
    /// gives 3.6.0, the spelling first sight and signals are recorded under. The version itself when upstream lists no file of it.
    /// </summary>
    public static string UpstreamSpelling(Protocol.SimpleApi.ProjectPage? page, string project, string version)
    {
        var key = ReleaseVettings.ReleaseKey(version);
        foreach (var file in page?.Files ?? [])
        {
            var listed = SimplePageRenderer.VersionOf(project, file.Filename);
            if (key is not null && ReleaseVettings.ReleaseKey(listed) == key)
            {
                return ReleaseVettings.NormalizeVersion(listed) ?? version;
            }
        }

        return version;
    }

    private async Task<SeenRelease?> SeenAsync(string project, string version, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        return await db.SeenReleases.AsNoTracking().FirstOrDefaultAsync(r => r.Project == project && r.Version == version, cancellationToken);
    }

    // The stored signals; for automatic vetting also the signals the recorded files show now, so a release whose signals
    // were never stored (a node stopped between recording its first sight and its signals) is not vetted unexamined.
    private async Task<IReadOnlyList<ReleaseSignal>> SignalsAsync(string project, string version, bool recompute, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var stored = await db.ReleaseSignals.AsNoTracking().Where(s => s.Project == project && s.Version == version).OrderBy(s => s.Id).ToListAsync(cancellationToken);
        if (!recompute)
        {
            return stored;
        }

        var files = await db.UpstreamFiles.AsNoTracking().Where(f => f.Project == project).ToListAsync(cancellationToken);
        var releases = await db.SeenReleases.AsNoTracking().Where(r => r.Project == project).ToDictionaryAsync(r => r.Version, StringComparer.Ordinal, cancellationToken);
        // The provenance signals too, from the stored results: a release whose provenance work never ran to the end (a node
        // stopped between first sight and the work) is not vetted by policy without them.
        var provenance = await db.FileProvenances.AsNoTracking().Where(p => p.Project == project).ToListAsync(cancellationToken);
        var fresh = ReleaseHistory.Detect(project, version, ReleaseHistory.FactsOf(files, releases))
            .Concat(Provenance.ProvenanceHistory.Detect(project, version, provenance, files.Where(f => f.RemovedAt == null).ToList(), curations.Current.Vettings))
            .Where(d => stored.All(s => s.Kind != d.Kind))
            .Select(d => new ReleaseSignal { Project = project, Version = version, Kind = d.Kind, Evidence = d.Evidence });
        return [.. stored, .. fresh];
    }

    public static string Iso(DateTime time) => time.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Describe(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? $"{span.TotalDays:0}d"
        : span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? $"{span.TotalHours:0}h"
        : $"{span.TotalMinutes:0}m";
}
