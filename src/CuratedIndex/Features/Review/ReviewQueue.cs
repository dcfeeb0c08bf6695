using System.Net;
using System.Security.Cryptography;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Typosquat;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Review;

/// <summary>The outcome of one decision about one project.</summary>
public sealed record DecisionResult(string Project, Verdict Verdict, long DecisionId);

/// <summary>
/// The review queue: demand recorded from index requests, and reviewer decisions (each one a new
/// <see cref="ProjectDecision"/> row and an audit record, written together). Every path that creates or decides a
/// review request screens the name: its typosquat finding is recorded and sets the request's risk score.
/// </summary>
public sealed class ReviewQueue(
    IServiceScopeFactory scopes,
    AuditLog audit,
    CurationStore curation,
    TyposquatScreening typosquats,
    IOptions<ReviewOptions> options,
    TimeProvider clock,
    ILogger<ReviewQueue> logger)
{
    public const int MaxReasonLength = 2000;

    // The newest window whose older marks this node has deleted (races only repeat a harmless DELETE).
    private DateTime _purgedBefore = DateTime.MinValue;

    /// <summary>
    /// Counts one request for a project that is not approved, creating its review request on first sight; a caller counts
    /// once per <c>Review:DemandWindow</c> and environment (the account, or for an anonymous caller the client address
    /// <paramref name="clientAddress"/>; without one, all anonymous callers are one). Returns the review request's id.
    /// Upserts in SQL so that concurrent requests on any node count exactly.
    /// <paramref name="typosquat"/> is the caller's screening of the name against the current Curation (an index request
    /// has it already): it is recorded, and its score raises the request's risk score, never lowers it.
    /// </summary>
    public async Task<long> RecordDemandAsync(string project, string environment, string requester, TyposquatSignal? typosquat, CancellationToken cancellationToken, IPAddress? clientAddress = null)
    {
        await typosquats.TryRecordAsync(project, typosquat, cancellationToken);
        var risk = typosquat?.Score ?? 0;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var window = options.Value.DemandWindow;
        var windowStart = new DateTime(now.Ticks - (now.Ticks % window.Ticks), DateTimeKind.Utc);
        var caller = CallerKey(requester, clientAddress);
        // The mark is the gate: only the caller's first request of the window inserts it, and only that one counts.
        var first = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO demand_marks (project, environment, caller, window_start) VALUES ({project}, {environment}, {caller}, {windowStart})
            ON CONFLICT (project, environment, caller, window_start) DO NOTHING
            """, cancellationToken);
        if (first == 0)
        {
            var existing = await db.ReviewRequests.AsNoTracking().Where(r => r.Project == project).Select(r => (long?)r.Id).FirstOrDefaultAsync(cancellationToken);
            if (existing is { } known)
            {
                return known;
            }
        }
        else if (windowStart > _purgedBefore)
        {
            // Marks of earlier windows are dead once a window starts: one purge per window and node, not one per caller.
            await db.Database.ExecuteSqlAsync($"DELETE FROM demand_marks WHERE window_start < {windowStart}", cancellationToken);
            _purgedBefore = windowStart;
        }

        // The same statement works on SQLite (3.35+) and PostgreSQL.
        var id = await db.Database.SqlQuery<long>($"""
            INSERT INTO review_requests (project, first_requested_at, last_requested_at, request_count, status, risk_score)
            VALUES ({project}, {now}, {now}, 1, {VerdictText.Pending}, {risk})
            ON CONFLICT (project) DO UPDATE SET last_requested_at = excluded.last_requested_at, request_count = review_requests.request_count + 1,
                risk_score = CASE WHEN excluded.risk_score > review_requests.risk_score THEN excluded.risk_score ELSE review_requests.risk_score END
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO review_requesters (review_request_id, environment, requester, request_count, first_requested_at, last_requested_at)
            VALUES ({id[0]}, {environment}, {requester}, 1, {now}, {now})
            ON CONFLICT (review_request_id, environment, requester) DO UPDATE SET last_requested_at = excluded.last_requested_at, request_count = review_requesters.request_count + 1
            """, cancellationToken);
        return id[0];
    }

    /// <summary>
    /// Who a caller is for demand, as a SHA-256 (the table holds no client address in clear; an unsalted hash of an IPv4
    /// address can still be found by trying every address, so it is a pseudonym, not a secret).
    /// </summary>
    internal static string CallerKey(string requester, IPAddress? clientAddress)
    {
        var key = requester == IndexAccess.Anonymous
            ? $"address:{(clientAddress is null ? "unknown" : SignInThrottle.BucketOf(clientAddress))}"
            : $"account:{requester}";
        return TokenAuthenticator.HashOf(key);
    }

    /// <summary>
    /// Records one verdict with its reason for each project, and their audit records, in one transaction;
    /// then makes the new decisions visible to the decision function at once.
    /// </summary>
    public Task<IReadOnlyList<DecisionResult>> DecideAsync(IReadOnlyCollection<string> projects, Verdict verdict, string reason, string actor, CancellationToken cancellationToken) =>
        DecideEachAsync(projects.Distinct(StringComparer.Ordinal).Select(p => (p, reason)).ToList(), verdict, actor, cancellationToken);

    /// <summary>
    /// Like <see cref="DecideAsync"/> with a reason per project (a dependency approved with its dependent says whose
    /// dependency it is): every decision and audit record in one transaction.
    /// </summary>
    public async Task<IReadOnlyList<DecisionResult>> DecideEachAsync(IReadOnlyList<(string Project, string Reason)> decided, Verdict verdict, string actor, CancellationToken cancellationToken)
    {
        var staged = Stage(decided, verdict, actor);
        var results = await audit.WriteAsync(db => staged.AddAsync(db, cancellationToken), cancellationToken);
        await staged.CommittedAsync(results);
        return results.Select(d => new DecisionResult(d.Project, verdict, d.Id)).ToList();
    }

    /// <summary>
    /// Decisions to write inside a caller's audit transaction (vet with dependencies writes approvals and vettings
    /// together): <see cref="StagedDecisions.AddAsync"/> in the transaction, <see cref="StagedDecisions.CommittedAsync"/> after it.
    /// </summary>
    public StagedDecisions Stage(IReadOnlyList<(string Project, string Reason)> decided, Verdict verdict, string actor)
    {
        if (verdict == Verdict.Pending)
        {
            throw new ArgumentException("a decision is approve, deny or defer", nameof(verdict));
        }

        // Screened against the names in force before this decision: approving a lookalike makes it an organization name.
        var before = curation.Current;
        var findings = decided.Select(d => d.Project).Distinct(StringComparer.Ordinal)
            .Select(p => (Project: p, Finding: before.Typosquat(p)))
            .Where(f => f.Finding is not null)
            .ToDictionary(f => f.Project, f => f.Finding!, StringComparer.Ordinal);
        return new StagedDecisions(this, decided, verdict, actor, clock.GetUtcNow().UtcDateTime, findings);
    }

    private async Task AfterCommitAsync(IReadOnlyList<ProjectDecision> written, string actor, Dictionary<string, TyposquatSignal> findings)
    {
        foreach (var decision in written)
        {
            ReviewLog.Decided(logger, actor, decision.Verdict, decision.Project, decision.Reason);
        }

        await curation.RefreshAsync(CancellationToken.None);
        foreach (var (project, finding) in findings)
        {
            await typosquats.TryRecordAsync(project, finding, CancellationToken.None);
        }
    }

    /// <summary>Project decisions staged for one transaction, with what follows their commit.</summary>
    public sealed class StagedDecisions
    {
        private readonly ReviewQueue _queue;
        private readonly List<string> _projects;
        private readonly Dictionary<string, string> _reasons;
        private readonly Verdict _verdict;
        private readonly string _actor;
        private readonly DateTime _now;
        private readonly Dictionary<string, TyposquatSignal> _findings;

        internal StagedDecisions(ReviewQueue queue, IReadOnlyList<(string Project, string Reason)> decided, Verdict verdict, string actor, DateTime now, Dictionary<string, TyposquatSignal> findings)
        {
            _queue = queue;
            _projects = decided.Select(d => d.Project).Distinct(StringComparer.Ordinal).ToList();
            _reasons = decided.GroupBy(d => d.Project, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Reason, StringComparer.Ordinal);
            (_verdict, _actor, _now, _findings) = (verdict, actor, now, findings);
        }

        /// <summary>Adds one decision per project (and its review request's new status) to <paramref name="db"/>, with their audit entries.</summary>
        public async Task<(IReadOnlyList<ProjectDecision> Result, IReadOnlyList<AuditEntry> Entries)> AddAsync(CuratedIndexDbContext db, CancellationToken cancellationToken)
        {
            var verdictText = VerdictText.Of(_verdict);
            var decisions = new List<ProjectDecision>();
            var requests = await db.ReviewRequests.Where(r => _projects.Contains(r.Project)).ToDictionaryAsync(r => r.Project, StringComparer.Ordinal, cancellationToken);
            foreach (var project in _projects)
            {
                var decision = new ProjectDecision { Project = project, Verdict = verdictText, Reason = _reasons[project], Actor = _actor, DecidedAt = _now };
                db.ProjectDecisions.Add(decision);
                decisions.Add(decision);
                if (!requests.TryGetValue(project, out var request))
                {
                    // Deciding before anyone asked (pre-approval) still gives the project a place in the queue's history.
                    request = new ReviewRequest { Project = project, Status = verdictText, FirstRequestedAt = _now, LastRequestedAt = _now };
                    db.ReviewRequests.Add(request);
                }

                request.Status = verdictText;
                request.DecidedAt = _now;
                if (_findings.TryGetValue(project, out var finding) && finding.Score > request.RiskScore)
                {
                    request.RiskScore = finding.Score;
                }
            }

            var action = AuditAction.For(_verdict) ?? AuditAction.ProjectDefer;
            // Each decision carries its record's id and hash: the loader refuses a decision without them (CurationStore).
            var entries = decisions.Select(d => new AuditEntry(_actor, action, $"project:{d.Project}", d.Reason)
            {
                Recorded = record => (d.AuditRecordId, d.AuditHash) = (record.Id, record.Hash),
            }).ToList();
            return (decisions, entries);
        }

        /// <summary>
        /// The decisions are committed: what follows must happen even if the caller has gone (a cancelled refresh would leave
        /// this node on the old decisions until the next refresh tick). Refresh first, so the decision takes effect before the
        /// bookkeeping; recording a finding never fails a decision.
        /// </summary>
        public Task CommittedAsync(IReadOnlyList<ProjectDecision> written) => _queue.AfterCommitAsync(written, _actor, _findings);
    }
}
