using System.Collections.Frozen;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.Typosquat;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Decisions;

/// <summary>
/// Holds the current <see cref="Curation"/>. Reviewer decisions are read from the database at startup, right
/// after a decision on this node, and every few seconds (<see cref="CurationRefresher"/>) so that decisions
/// made on another node arrive too.
/// </summary>
public sealed class CurationStore(
    PolicyStore policies,
    IServiceScopeFactory scopes,
    TimeProvider clock,
    ILogger<CurationStore> logger,
    TyposquatScreening? screening = null) : IDisposable
{
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private volatile Curation? _current;

    public Curation Current
    {
        get
        {
            var current = _current;
            var policy = policies.Current;
            if (current is null || !ReferenceEquals(current.Policy, policy))
            {
                current = new Curation(policy, current?.Reviews ?? ReviewerDecisions.None) { Screening = screening, Vettings = current?.Vettings ?? ReleaseVettings.None, Publishers = current?.Publishers ?? ReviewerPublishers.None };
                _current = current;
            }

            return current;
        }
    }

    /// <summary>Reads project and release decisions newer than the ones held; a no-op when there are none.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            var held = Current;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var reviews = await RefreshReviewsAsync(db, held.Reviews, cancellationToken);
            var vettings = await RefreshVettingsAsync(db, held.Vettings, cancellationToken);
            var publishers = await RefreshPublishersAsync(db, held.Publishers, cancellationToken);
            if (!ReferenceEquals(reviews, held.Reviews) || !ReferenceEquals(vettings, held.Vettings) || !ReferenceEquals(publishers, held.Publishers))
            {
                _current = new Curation(policies.Current, reviews) { Screening = screening, Vettings = vettings, Publishers = publishers };
            }
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private async Task<ReviewerDecisions> RefreshReviewsAsync(CuratedIndexDbContext db, ReviewerDecisions reviews, CancellationToken cancellationToken)
    {
        var newer = await db.ProjectDecisions.AsNoTracking()
            .Where(d => d.Id > reviews.LastDecisionId)
            .OrderBy(d => d.Id)
            .ToListAsync(cancellationToken);
        if (newer.Count == 0)
        {
            return reviews;
        }

        var records = await RecordsAsync(db, newer.Select(d => d.AuditRecordId), cancellationToken);
        var byProject = new Dictionary<string, ReviewerVerdict>(reviews.ByProject, StringComparer.Ordinal);
        foreach (var decision in newer)
        {
            var problem = AuditProblem(decision, decision.AuditRecordId is { } id ? records.GetValueOrDefault(id) : null);
            if (problem is null)
            {
                byProject[decision.Project] = new ReviewerVerdict(VerdictText.Parse(decision.Verdict), decision.Reason, decision.Actor, decision.DecidedAt, decision.Id);
                continue;
            }

            // Fail closed: a decision nobody can account for is not followed, and the project is hidden in every tier
            // (as denied, not as undecided: undecided would let tier 1 serve a project a reviewer had denied) until a
            // reviewer decides again. A forged approval thus hides its project; a forged denial hides it too.
            byProject[decision.Project] = new ReviewerVerdict(
                Verdict.Denied,
                $"decision #{decision.Id} has no valid audit record; hidden until a reviewer decides again",
                UnverifiedActor,
                decision.DecidedAt,
                decision.Id);
            await RaiseUnverifiedAsync(db, decision.Project, $"decision #{decision.Id} ", $"decision #{decision.Id} ({decision.Verdict} by {decision.Actor})", problem, "the project", cancellationToken);
        }

        return new ReviewerDecisions(byProject.ToFrozenDictionary(StringComparer.Ordinal), newer[^1].Id);
    }

    private async Task<ReleaseVettings> RefreshVettingsAsync(CuratedIndexDbContext db, ReleaseVettings vettings, CancellationToken cancellationToken)
    {
        var newer = await db.ReleaseDecisions.AsNoTracking()
            .Include(d => d.Files)
            .Where(d => d.Id > vettings.LastDecisionId)
            .OrderBy(d => d.Id)
            .AsSplitQuery()
            .ToListAsync(cancellationToken);
        if (newer.Count == 0)
        {
            return vettings;
        }

        var records = await RecordsAsync(db, newer.Select(d => d.AuditRecordId), cancellationToken);
        var byProject = vettings.ByProject.ToDictionary(p => p.Key, p => new Dictionary<string, ReleaseVerdict>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var decision in newer)
        {
            if (!byProject.TryGetValue(decision.Project, out var releases))
            {
                releases = new Dictionary<string, ReleaseVerdict>(StringComparer.Ordinal);
                byProject[decision.Project] = releases;
            }

            var problem = ReleaseAudit.Problem(decision, decision.AuditRecordId is { } id ? records.GetValueOrDefault(id) : null);
            if (problem is null)
            {
                releases[ReleaseVettings.ReleaseKey(decision.Version) ?? decision.Version] = ReleaseAudit.VerdictOf(decision);
                continue;
            }

            // Fail closed, as for project decisions: a release decision nobody can account for hides the release.
            releases[ReleaseVettings.ReleaseKey(decision.Version) ?? decision.Version] = new ReleaseVerdict(
                decision.Id, decision.Project, decision.Version, Vetted: false, Criteria: null, How: UnverifiedActor, Actor: UnverifiedActor,
                Reason: $"release decision #{decision.Id} has no valid audit record; hidden until a reviewer decides again",
                BreakGlass: false, Source: null, decision.DecidedAt, FrozenDictionary<string, PinnedFile>.Empty);
            await RaiseUnverifiedAsync(db, decision.Project, $"release decision #{decision.Id} ", $"release decision #{decision.Id} ({decision.Verdict} {decision.Version} by {decision.Actor})", problem, "the release", cancellationToken);
        }

        return new ReleaseVettings(
            byProject.ToFrozenDictionary(p => p.Key, p => p.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.Ordinal),
            newer[^1].Id);
    }

    private async Task<ReviewerPublishers> RefreshPublishersAsync(CuratedIndexDbContext db, ReviewerPublishers publishers, CancellationToken cancellationToken)
    {
        var newer = await db.PublisherDecisions.AsNoTracking()
            .Where(d => d.Id > publishers.LastDecisionId)
            .OrderBy(d => d.Id)
            .ToListAsync(cancellationToken);
        if (newer.Count == 0)
        {
            return publishers;
        }

        var records = await RecordsAsync(db, newer.Select(d => d.AuditRecordId), cancellationToken);
        var byProject = publishers.ByProject.ToDictionary(p => p.Key, p => new Dictionary<string, PublisherGrant>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var decision in newer)
        {
            if (!byProject.TryGetValue(decision.Project, out var grants))
            {
                grants = new Dictionary<string, PublisherGrant>(StringComparer.Ordinal);
                byProject[decision.Project] = grants;
            }

            var problem = PublisherAudit.Problem(decision, decision.AuditRecordId is { } id ? records.GetValueOrDefault(id) : null);
            if (!VettedPublisher.TryParse(decision.Publisher, decision.From, decision.Until, out var publisher, out _))
            {
                // Written through PublisherVetting, which parses first: a row that does not parse was not, and grants nothing.
                problem ??= "its publisher entry does not parse";
            }

            if (problem is null && decision.Action == PublisherActionText.Vet)
            {
                grants[publisher!.Key] = new PublisherGrant(publisher, decision.Actor, decision.Reason, decision.DecidedAt);
                continue;
            }

            // A removal, or fail closed: a vetted publisher nobody can account for grants nothing (it would vet releases).
            if (publisher is not null)
            {
                grants.Remove(publisher.Key);
            }

            if (problem is not null)
            {
                await RaiseUnverifiedAsync(db, decision.Project, $"publisher decision #{decision.Id} ", $"publisher decision #{decision.Id} ({decision.Action} {decision.Publisher} by {decision.Actor})", problem, "the publisher (not vetted)", cancellationToken);
            }
        }

        return new ReviewerPublishers(
            byProject.Where(p => p.Value.Count > 0).ToFrozenDictionary(p => p.Key, p => p.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.Ordinal),
            newer[^1].Id);
    }

    private static Task<Dictionary<long, AuditRecord>> RecordsAsync(CuratedIndexDbContext db, IEnumerable<long?> ids, CancellationToken cancellationToken)
    {
        var recordIds = ids.Where(id => id is not null).Select(id => id!.Value).ToList();
        return db.AuditRecords.AsNoTracking().Where(r => recordIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
    }

    /// <summary>The actor shown for a decision refused because its audit record is missing or does not match.</summary>
    public const string UnverifiedActor = "audit-check";

    /// <summary>
    /// Why <paramref name="decision"/> cannot be accounted for by <paramref name="record"/>, or null when the record is the
    /// one written with it: same id and hash, content that still hashes to it, and the same project, verdict, actor and reason.
    /// </summary>
    internal static string? AuditProblem(ProjectDecision decision, AuditRecord? record) =>
        AuditChain.RecordProblem(
            decision.AuditRecordId,
            decision.AuditHash,
            record,
            new AuditEntry(decision.Actor, AuditAction.For(VerdictText.Parse(decision.Verdict)) ?? "", $"project:{decision.Project}", decision.Reason));

    // Once per decision (any node may be first; a duplicate incident from a race costs nothing). Never fails the refresh.
    // <paramref name="which"/> starts with the decision's key ("decision #12 " or "release decision #12 "), then what it was.
    private async Task RaiseUnverifiedAsync(CuratedIndexDbContext db, string project, string key, string which, string problem, string hidden, CancellationToken cancellationToken)
    {
        ReviewLog.UnverifiedDecision(logger, which, problem);
        var detail = $"{which} is not followed: {problem}; {hidden} is hidden until a reviewer decides again";
        if (detail.Length > 2000)
        {
            detail = detail[..2000];
        }

        try
        {
            if (!await db.Incidents.AnyAsync(i => i.Kind == IncidentKind.UnverifiedDecision && i.Project == project && i.Detail.StartsWith(key), cancellationToken))
            {
                db.Incidents.Add(new Incident
                {
                    Kind = IncidentKind.UnverifiedDecision,
                    Project = project,
                    Detail = detail,
                    OccurredAt = clock.GetUtcNow(),
                    Severity = IncidentSeverity.High,
                });
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        catch (DbUpdateException e)
        {
            ReviewLog.IncidentFailed(logger, project, e);
        }
    }

    public void Dispose() => _refreshGate.Dispose();
}

/// <summary>Polls for reviewer decisions made on other nodes (<c>Review:RefreshInterval</c>).</summary>
public sealed class CurationRefresher(CurationStore store, Microsoft.Extensions.Options.IOptions<ReviewOptions> options, ILogger<CurationRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Polling is paced by wall time, not the application's clock: a clock moved a week ahead (a test's) must not fire
        // a week of polls at once.
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, TimeProvider.System);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await store.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ReviewLog.RefreshFailed(logger, e);
            }
        }
    }
}
