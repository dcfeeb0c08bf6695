using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Closure;

/// <summary>
/// Computes the closure of each pending review request's newest release for every tier 2 or 3 environment it was asked
/// from, most requested first (at most <c>Closure:MaxPerRun</c>), so the queue can say how many more projects each one
/// needs without waiting for upstream. A closure younger than <c>Closure:MaxAge</c> is reused, so a run is cheap. Stored
/// closures not computed again for 7 days are deleted.
/// </summary>
public sealed class ClosuresJob(ClosureService closures, CurationStore curations, IServiceScopeFactory scopes, IOptions<ClosureOptions> options, TimeProvider clock) : IScheduledJob
{
    public const string Key = "Closures";
    public const string DefaultSchedule = "*/30 * * * *";

    /// <summary>Stored closures not computed again for this long are deleted (any extras, versions and targets asked once).</summary>
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(7);

    public async Task RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        var (computed, failed) = await RunOnceAsync(cancellationToken);
        JobRunRecorder.SetResult(context, $"{computed} closure(s) computed or current, {failed} could not be computed");
    }

    public async Task<(int Computed, int Failed)> RunOnceAsync(CancellationToken cancellationToken)
    {
        List<(string Project, string Environment)> wanted;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var pending = await db.ReviewRequests.AsNoTracking()
                .Where(r => r.Status == VerdictText.Pending)
                .OrderByDescending(r => r.RequestCount)
                .ThenBy(r => r.Project)
                .Take(options.Value.MaxPerRun)
                .Select(r => new { r.Id, r.Project })
                .ToListAsync(cancellationToken);
            var ids = pending.Select(p => p.Id).ToList();
            var environments = await db.ReviewRequesters.AsNoTracking()
                .Where(r => ids.Contains(r.ReviewRequestId))
                .Select(r => new { r.ReviewRequestId, r.Environment })
                .Distinct()
                .ToListAsync(cancellationToken);
            var policy = curations.Current.Policy;
            wanted = pending
                .SelectMany(p => environments.Where(e => e.ReviewRequestId == p.Id).Select(e => (p.Project, e.Environment)))
                .Where(w => policy.Environments.TryGetValue(w.Environment, out var environment) && environment.Tier != Tier.Passthrough)
                .ToList();
        }

        // Closures nobody asked for again are dropped: every extras combination a viewer asks for is a row.
        await using (var scope = scopes.CreateAsyncScope())
        {
            var before = clock.GetUtcNow().UtcDateTime - (KeepFor > options.Value.MaxAge ? KeepFor : options.Value.MaxAge);
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            await db.Closures.Where(c => c.ComputedAt < before).ExecuteDeleteAsync(cancellationToken);
        }

        int computed = 0, failed = 0;
        foreach (var (project, environment) in wanted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await closures.EnsureAsync(project, environment, cancellationToken) is null)
            {
                computed++;
            }
            else
            {
                failed++;
            }
        }

        return (computed, failed);
    }
}
