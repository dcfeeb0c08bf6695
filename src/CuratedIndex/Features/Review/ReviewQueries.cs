using CuratedIndex.Data;
using CuratedIndex.Protocol;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Review;

/// <summary>How the queue is ordered: by demand (default), risk, most recent request, oldest request, or name.</summary>
public enum QueueSort
{
    Demand,
    Risk,
    Recent,
    Oldest,
    Name,
}

/// <summary>A page of the queue. Status null means every status.</summary>
public sealed record QueueQuery(string? Status = VerdictText.Pending, string? Environment = null, string? Search = null, QueueSort Sort = QueueSort.Demand, int Offset = 0, int Limit = 50);

public sealed record QueueItem(long Id, string Project, string Status, long RequestCount, DateTime FirstRequestedAt, DateTime LastRequestedAt, DateTime? DecidedAt, double RiskScore, IReadOnlyList<string> Environments);

public sealed record QueuePage(IReadOnlyList<QueueItem> Items, int Total);

public sealed record RequesterView(string Environment, string Requester, long RequestCount, DateTime FirstRequestedAt, DateTime LastRequestedAt);

public sealed record DecisionView(long Id, string Verdict, string Reason, string Actor, DateTime DecidedAt);

/// <summary>One project's review: the request (if anyone asked), who asked, and every decision, newest first.</summary>
public sealed record ReviewDetail(string Project, QueueItem? Request, IReadOnlyList<RequesterView> Requesters, IReadOnlyList<DecisionView> Decisions);

/// <summary>The read side of the queue, shared by the UI and the API.</summary>
public static class ReviewQueries
{
    public const int MaxLimit = 500;

    public static async Task<QueuePage> ListAsync(CuratedIndexDbContext db, QueueQuery query, CancellationToken cancellationToken)
    {
        var requests = db.ReviewRequests.AsNoTracking();
        if (query.Status is { Length: > 0 } status)
        {
            requests = requests.Where(r => r.Status == status);
        }

        if (query.Environment is { Length: > 0 } environment)
        {
            requests = requests.Where(r => r.Requesters.Any(q => q.Environment == environment));
        }

        if (query.Search is { Length: > 0 } search)
        {
            // PEP 503 normalization of the search text, so "A__b" finds "a-b" the way the index does.
            var normalized = ProjectName.Normalize(search.Trim());
            requests = requests.Where(r => r.Project.Contains(normalized));
        }

        requests = query.Sort switch
        {
            QueueSort.Risk => requests.OrderByDescending(r => r.RiskScore).ThenByDescending(r => r.RequestCount).ThenBy(r => r.Project),
            QueueSort.Recent => requests.OrderByDescending(r => r.LastRequestedAt).ThenBy(r => r.Project),
            QueueSort.Oldest => requests.OrderBy(r => r.FirstRequestedAt).ThenBy(r => r.Project),
            QueueSort.Name => requests.OrderBy(r => r.Project),
            _ => requests.OrderByDescending(r => r.RequestCount).ThenByDescending(r => r.RiskScore).ThenBy(r => r.Project),
        };

        var total = await requests.CountAsync(cancellationToken);
        var limit = Math.Clamp(query.Limit, 1, MaxLimit);
        var rows = await requests.Skip(Math.Max(0, query.Offset)).Take(limit).ToListAsync(cancellationToken);
        // A second query rather than a nested collection in the page's projection: SQLite cannot run that (it needs APPLY).
        var ids = rows.Select(r => r.Id).ToList();
        var environments = (await db.ReviewRequesters.AsNoTracking()
                .Where(q => ids.Contains(q.ReviewRequestId))
                .Select(q => new { q.ReviewRequestId, q.Environment })
                .Distinct()
                .ToListAsync(cancellationToken))
            .ToLookup(q => q.ReviewRequestId, q => q.Environment);
        return new QueuePage(rows.Select(r => Item(r, environments[r.Id].ToList())).ToList(), total);
    }

    public static async Task<ReviewDetail> GetAsync(CuratedIndexDbContext db, string project, CancellationToken cancellationToken)
    {
        var request = await db.ReviewRequests.AsNoTracking().Include(r => r.Requesters).SingleOrDefaultAsync(r => r.Project == project, cancellationToken);
        var decisions = await db.ProjectDecisions.AsNoTracking().Where(d => d.Project == project).OrderByDescending(d => d.Id)
            .Select(d => new DecisionView(d.Id, d.Verdict, d.Reason, d.Actor, d.DecidedAt))
            .ToListAsync(cancellationToken);
        var requesters = request?.Requesters
            .OrderByDescending(r => r.RequestCount).ThenBy(r => r.Environment, StringComparer.Ordinal).ThenBy(r => r.Requester, StringComparer.Ordinal)
            .Select(r => new RequesterView(r.Environment, r.Requester, r.RequestCount, r.FirstRequestedAt, r.LastRequestedAt))
            .ToList() ?? [];
        var item = request is null ? null : Item(request, requesters.Select(r => r.Environment).Distinct(StringComparer.Ordinal).ToList());
        return new ReviewDetail(project, item, requesters, decisions);
    }

    private static QueueItem Item(ReviewRequest r, List<string> environments)
    {
        environments.Sort(StringComparer.Ordinal);
        return new QueueItem(r.Id, r.Project, r.Status, r.RequestCount, r.FirstRequestedAt, r.LastRequestedAt, r.DecidedAt, r.RiskScore, environments);
    }
}
