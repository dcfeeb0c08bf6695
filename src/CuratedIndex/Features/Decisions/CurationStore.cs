using System.Collections.Frozen;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Policies;
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
                current = new Curation(policy, current?.Reviews ?? ReviewerDecisions.None) { Screening = screening };
                _current = current;
            }

            return current;
        }
    }

    /// <summary>Reads decisions newer than the ones held; a no-op when there are none.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            var reviews = Current.Reviews;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var newer = await db.ProjectDecisions.AsNoTracking()
                .Where(d => d.Id > reviews.LastDecisionId)
                .OrderBy(d => d.Id)
                .ToListAsync(cancellationToken);
            if (newer.Count == 0)
            {
                return;
            }

            var recordIds = newer.Where(d => d.AuditRecordId is not null).Select(d => d.AuditRecordId!.Value).ToList();
            var records = await db.AuditRecords.AsNoTracking().Where(r => recordIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
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
                await RaiseUnverifiedAsync(db, decision, problem, cancellationToken);
            }

            var updated = new ReviewerDecisions(byProject.ToFrozenDictionary(StringComparer.Ordinal), newer[^1].Id);
            _current = new Curation(policies.Current, updated) { Screening = screening };
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>The actor shown for a decision refused because its audit record is missing or does not match.</summary>
    public const string UnverifiedActor = "audit-check";

    /// <summary>
    /// Why <paramref name="decision"/> cannot be accounted for by <paramref name="record"/>, or null when the record is the
    /// one written with it: same id and hash, content that still hashes to it, and the same project, verdict, actor and reason.
    /// </summary>
    internal static string? AuditProblem(ProjectDecision decision, AuditRecord? record)
    {
        if (decision.AuditRecordId is null || decision.AuditHash is null)
        {
            return "it names no audit record";
        }

        if (record is null)
        {
            return $"its audit record {decision.AuditRecordId} does not exist";
        }

        if (!string.Equals(record.Hash, decision.AuditHash, StringComparison.Ordinal)
            || !string.Equals(AuditChain.ComputeHash(record), record.Hash, StringComparison.Ordinal))
        {
            return $"its audit record {record.Id} does not have the hash the decision names";
        }

        var action = AuditAction.For(VerdictText.Parse(decision.Verdict));
        return string.Equals(record.Subject, $"project:{decision.Project}", StringComparison.Ordinal)
            && string.Equals(record.Action, action, StringComparison.Ordinal)
            && string.Equals(record.Actor, decision.Actor, StringComparison.Ordinal)
            && string.Equals(record.Reason, decision.Reason, StringComparison.Ordinal)
                ? null
                : $"its audit record {record.Id} describes another change ({record.Action} {record.Subject})";
    }

    // Once per decision (any node may be first; a duplicate incident from a race costs nothing). Never fails the refresh.
    private async Task RaiseUnverifiedAsync(CuratedIndexDbContext db, ProjectDecision decision, string problem, CancellationToken cancellationToken)
    {
        ReviewLog.UnverifiedDecision(logger, decision.Id, decision.Project, decision.Verdict, problem);
        var detail = $"decision #{decision.Id} ({decision.Verdict} by {decision.Actor}) is not followed: {problem}; the project is hidden until a reviewer decides again";
        if (detail.Length > 2000)
        {
            detail = detail[..2000];
        }

        try
        {
            var prefix = $"decision #{decision.Id} ";
            if (!await db.Incidents.AnyAsync(i => i.Kind == IncidentKind.UnverifiedDecision && i.Project == decision.Project && i.Detail.StartsWith(prefix), cancellationToken))
            {
                db.Incidents.Add(new Incident
                {
                    Kind = IncidentKind.UnverifiedDecision,
                    Project = decision.Project,
                    Detail = detail,
                    OccurredAt = clock.GetUtcNow(),
                    Severity = IncidentSeverity.High,
                });
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        catch (DbUpdateException e)
        {
            ReviewLog.IncidentFailed(logger, decision.Project, e);
        }
    }

    public void Dispose() => _refreshGate.Dispose();
}

/// <summary>Polls for reviewer decisions made on other nodes (<c>Review:RefreshInterval</c>).</summary>
public sealed class CurationRefresher(CurationStore store, Microsoft.Extensions.Options.IOptions<ReviewOptions> options, TimeProvider clock, ILogger<CurationRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, clock);
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
