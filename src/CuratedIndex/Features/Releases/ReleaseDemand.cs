using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// Demand for releases tier 3 does not show, counted like tier 2 demand: a caller counts once per
/// <c>Review:DemandWindow</c>, environment and release, so one client repeating itself cannot make a release look wanted.
/// </summary>
public sealed class ReleaseDemand(IServiceScopeFactory scopes, IOptions<ReviewOptions> options, TimeProvider clock, ILogger<ReleaseDemand> logger)
{
    /// <summary>Counts one request for a release; never fails the request it comes from.</summary>
    public async Task RecordAsync(string project, string version, string environment, string requester, IPAddress? clientAddress, CancellationToken cancellationToken)
    {
        try
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var window = options.Value.DemandWindow;
            var windowStart = new DateTime(now.Ticks - (now.Ticks % window.Ticks), DateTimeKind.Utc);
            var caller = ReviewQueue.CallerKey(requester, clientAddress);
            // The demand mark's project names the release; a release name too long for the column counts without the gate.
            var mark = $"{project}=={version}";
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            if (mark.Length <= 200)
            {
                var first = await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO demand_marks (project, environment, caller, window_start) VALUES ({mark}, {environment}, {caller}, {windowStart})
                    ON CONFLICT (project, environment, caller, window_start) DO NOTHING
                    """, cancellationToken);
                if (first == 0)
                {
                    return;
                }
            }

            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO release_requests (project, version, environment, first_requested_at, last_requested_at, request_count)
                VALUES ({project}, {version}, {environment}, {now}, {now}, 1)
                ON CONFLICT (project, version, environment) DO UPDATE SET last_requested_at = excluded.last_requested_at, request_count = release_requests.request_count + 1
                """, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ReleasesLog.DemandFailed(logger, project, version, e);
        }
    }
}
