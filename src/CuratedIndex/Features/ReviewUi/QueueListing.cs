using CuratedIndex.Data;
using CuratedIndex.Features.Review;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// The queue page's listing: the same filters and orders as <see cref="ReviewQueries.ListAsync"/>, in two plain
/// queries (the page of requests, then their environments). <see cref="ReviewQueries.ListAsync"/> projects each
/// row's distinct environments inside the paged query, which needs SQL APPLY and fails on SQLite.
/// </summary>
public static class QueueListing
{
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
            var normalized = search.Trim().ToLowerInvariant().Replace('_', '-').Replace('.', '-');
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
        var limit = Math.Clamp(query.Limit, 1, ReviewQueries.MaxLimit);
        var rows = await requests.Skip(Math.Max(0, query.Offset)).Take(limit).ToListAsync(cancellationToken);
        var ids = rows.Select(r => r.Id).ToList();
        var environments = (await db.ReviewRequesters.AsNoTracking()
                .Where(q => ids.Contains(q.ReviewRequestId))
                .Select(q => new { q.ReviewRequestId, q.Environment })
                .Distinct()
                .ToListAsync(cancellationToken))
            .ToLookup(q => q.ReviewRequestId, q => q.Environment);
        var items = rows.Select(r => new QueueItem(
                r.Id, r.Project, r.Status, r.RequestCount, r.FirstRequestedAt, r.LastRequestedAt, r.DecidedAt, r.RiskScore,
                environments[r.Id].Order(StringComparer.Ordinal).ToList()))
            .ToList();
        return new QueuePage(items, total);
    }
}
