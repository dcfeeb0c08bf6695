using CuratedIndex.Data;
using CuratedIndex.Features.Closure;
using CuratedIndex.Protocol;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Review;

/// <summary>How the queue is ordered: by demand (default), risk, most recent request, oldest request, name, or work left (fewest more projects first).</summary>
public enum QueueSort
{
    Demand,
    Risk,
    Recent,
    Oldest,
    Name,
    Work,
}

/// <summary>A page of the queue. Status null means every status.</summary>
public sealed record QueueQuery(string? Status = VerdictText.Pending, string? Environment = null, string? Search = null, QueueSort Sort = QueueSort.Demand, int Offset = 0, int Limit = 50);

/// <param name="ClosureRemaining">
/// For a pending request: how many more projects (besides its own) its dependency closure needs decided in the queue's
/// environment filter, else the request's first environment, from the closure stored for it; null when none is stored
/// yet, and for requests that are not pending.
/// </param>
public sealed record QueueItem(
    long Id,
    string Project,
    string Status,
    long RequestCount,
    DateTime FirstRequestedAt,
    DateTime LastRequestedAt,
    DateTime? DecidedAt,
    double RiskScore,
    IReadOnlyList<string> Environments,
    int? ClosureRemaining = null);

public sealed record QueuePage(IReadOnlyList<QueueItem> Items, int Total);

public sealed record RequesterView(string Environment, string Requester, long RequestCount, DateTime FirstRequestedAt, DateTime LastRequestedAt);

public sealed record DecisionView(long Id, string Verdict, string Reason, string Actor, DateTime DecidedAt);

/// <summary>One project's review: the request (if anyone asked), who asked, and every decision, newest first.</summary>
public sealed record ReviewDetail(string Project, QueueItem? Request, IReadOnlyList<RequesterView> Requesters, IReadOnlyList<DecisionView> Decisions);

/// <summary>The read side of the queue, shared by the UI and the API.</summary>
public static class ReviewQueries
{
    public const int MaxLimit = 500;

    /// <summary>
    /// A page of the queue. The closure counts come from <paramref name="closures"/>' stored views only (never upstream);
    /// sorting by work reads them for every request that matches, then sorts in memory.
    /// </summary>
    public static async Task<QueuePage> ListAsync(CuratedIndexDbContext db, ClosureService closures, QueueQuery query, CancellationToken cancellationToken)
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

        var limit = Math.Clamp(query.Limit, 1, MaxLimit);
        if (query.Sort == QueueSort.Work)
        {
            // The work left is not a column: every matching request is counted, then sorted and paged here.
            var all = await requests.OrderByDescending(r => r.RequestCount).ThenBy(r => r.Project).ToListAsync(cancellationToken);
            var counted = await WithClosuresAsync(closures, await ItemsAsync(db, all, cancellationToken), query.Environment, cancellationToken);
            var sorted = counted
                .OrderBy(i => i.ClosureRemaining is null ? 1 : 0)
                .ThenBy(i => i.ClosureRemaining)
                .ThenByDescending(i => i.RequestCount)
                .ThenBy(i => i.Project, StringComparer.Ordinal)
                .Skip(Math.Max(0, query.Offset))
                .Take(limit)
                .ToList();
            return new QueuePage(sorted, counted.Count);
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
        var rows = await requests.Skip(Math.Max(0, query.Offset)).Take(limit).ToListAsync(cancellationToken);
        return new QueuePage(await WithClosuresAsync(closures, await ItemsAsync(db, rows, cancellationToken), query.Environment, cancellationToken), total);
    }

    /// <summary>
    /// How many more projects (besides the request's own) the closure stored for a pending request needs decided in
    /// <paramref name="environment"/>, else in the request's first environment; null when none is stored yet.
    /// </summary>
    public static async Task<QueueItem> WithClosureAsync(ClosureService closures, QueueItem item, string? environment, CancellationToken cancellationToken)
    {
        var chosen = environment is { Length: > 0 } ? environment : item.Environments.Count > 0 ? item.Environments[0] : null;
        if (item.Status != VerdictText.Pending || chosen is null)
        {
            return item;
        }

        var view = await closures.StoredViewAsync(item.Project, chosen, cancellationToken);
        return item with { ClosureRemaining = view is null ? null : MoreNeeded(view) };
    }

    /// <summary>How many more projects than <paramref name="view"/>'s own the closure needs decided (approved, or vetted in tier 3).</summary>
    public static int MoreNeeded(ClosureView view) =>
        view.Remaining.Select(m => m.Member.Project).Where(p => p != view.Closure.Project).Distinct(StringComparer.Ordinal).Count();

    private static async Task<List<QueueItem>> WithClosuresAsync(ClosureService closures, List<QueueItem> items, string? environment, CancellationToken cancellationToken)
    {
        // One at a time: each stored view is a few queries of its own, and a list must not flood the database.
        var counted = new List<QueueItem>(items.Count);
        foreach (var item in items)
        {
            counted.Add(await WithClosureAsync(closures, item, environment, cancellationToken));
        }

        return counted;
    }

    private static async Task<List<QueueItem>> ItemsAsync(CuratedIndexDbContext db, List<ReviewRequest> rows, CancellationToken cancellationToken)
    {
        // A second query rather than a nested collection in the page's projection: SQLite cannot run that (it needs APPLY).
        var ids = rows.Select(r => r.Id).ToList();
        var environments = (await db.ReviewRequesters.AsNoTracking()
                .Where(q => ids.Contains(q.ReviewRequestId))
                .Select(q => new { q.ReviewRequestId, q.Environment })
                .Distinct()
                .ToListAsync(cancellationToken))
            .ToLookup(q => q.ReviewRequestId, q => q.Environment);
        return rows.Select(r => Item(r, environments[r.Id].ToList())).ToList();
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
