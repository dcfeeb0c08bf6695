using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Releases;

/// <summary>One release in the release queue: its state for tier 3, its demand and its signals.</summary>
public sealed record ReleaseQueueItem(
    string Project,
    string Version,
    string Status,
    DateTime FirstSeenAt,
    DateTime? UploadedAt,
    long Demand,
    IReadOnlyList<string> Signals,
    string? Decision);

/// <summary>Release status words of the queue and the API.</summary>
public static class ReleaseStatus
{
    public const string Pending = "pending";
    public const string Vetted = "vetted";
    public const string Rejected = "rejected";
    public const string All = "all";

    public static bool IsKnown(string? status) => status is Pending or Vetted or Rejected or All;
}

/// <summary>
/// The release queue: releases of approved projects that CuratedIndex has seen, with the decision in force (from the
/// <see cref="Curation"/>, so what it says is what tier 3 does), demand and signals. Pending releases come first by demand.
/// </summary>
public static class ReleaseQueries
{
    public const int MaxLimit = 500;

    public static async Task<(int Total, IReadOnlyList<ReleaseQueueItem> Items)> ListAsync(
        CuratedIndexDbContext db,
        Curation curation,
        string status,
        string? project,
        int offset,
        int limit,
        CancellationToken cancellationToken)
    {
        var approved = curation.ApprovedProjects();
        var query = db.SeenReleases.AsNoTracking().Where(r => approved.Contains(r.Project));
        if (project is not null)
        {
            query = query.Where(r => r.Project == project);
        }

        var releases = await query.ToListAsync(cancellationToken);
        var projects = releases.Select(r => r.Project).Distinct().ToList();
        var demand = (await db.ReleaseRequests.AsNoTracking().Where(r => projects.Contains(r.Project))
                .GroupBy(r => new { r.Project, r.Version })
                .Select(g => new { g.Key.Project, g.Key.Version, Count = g.Sum(r => r.RequestCount) })
                .ToListAsync(cancellationToken))
            .ToDictionary(d => (d.Project, d.Version), d => d.Count);
        var signals = (await db.ReleaseSignals.AsNoTracking().Where(s => projects.Contains(s.Project)).Select(s => new { s.Project, s.Version, s.Kind }).ToListAsync(cancellationToken))
            .GroupBy(s => (s.Project, s.Version))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(s => s.Kind).Order(StringComparer.Ordinal).ToList());

        var items = releases.Select(r =>
            {
                var verdict = curation.Vettings.For(r.Project, r.Version);
                var state = verdict is null ? ReleaseStatus.Pending : verdict.Vetted ? ReleaseStatus.Vetted : ReleaseStatus.Rejected;
                return new ReleaseQueueItem(
                    r.Project,
                    r.Version,
                    state,
                    r.FirstSeenAt,
                    r.UploadedAt,
                    demand.GetValueOrDefault((r.Project, r.Version)),
                    signals.GetValueOrDefault((r.Project, r.Version)) ?? [],
                    verdict?.Describe());
            })
            .Where(i => status == ReleaseStatus.All || i.Status == status)
            .OrderByDescending(i => i.Demand)
            .ThenByDescending(i => i.FirstSeenAt)
            .ThenBy(i => i.Project, StringComparer.Ordinal)
            .ToList();
        return (items.Count, items.Skip(offset).Take(Math.Clamp(limit, 1, MaxLimit)).ToList());
    }
}
