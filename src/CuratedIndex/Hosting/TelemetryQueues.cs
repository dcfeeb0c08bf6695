using System.Diagnostics.Metrics;
using CuratedIndex.Data;
using CuratedIndex.Features.Review;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Hosting;

/// <summary>
/// Queue lengths as observable gauges: <c>curated_index.review.pending</c> (review requests waiting for a reviewer) and
/// <c>curated_index.jobs.queue</c> by <c>state</c> (Hangfire's enqueued, scheduled, processing and failed jobs).
/// <para>
/// A collection (an export, a listener) only reads the last values counted; when they are older than
/// <see cref="RefreshAfter"/> it starts one background count for the next collection. So a scrape never waits for the
/// database, and however often it comes the database is asked at most once per <see cref="RefreshAfter"/>.
/// </para>
/// </summary>
public sealed class TelemetryQueues
{
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(15);

    private readonly IServiceScopeFactory _scopes;
    private readonly IServiceProvider _services;
    private readonly ILogger<TelemetryQueues> _logger;
    private Counts? _counts;
    private long _countedAt;
    private int _refreshing;

    public TelemetryQueues(CuratedIndexMetrics metrics, IServiceScopeFactory scopes, IServiceProvider services, ILogger<TelemetryQueues> logger)
    {
        _scopes = scopes;
        _services = services;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("curated_index.review.pending", ObservePending, description: "Review requests waiting for a reviewer (counted at most every 15 s)");
        metrics.Meter.CreateObservableGauge("curated_index.jobs.queue", ObserveJobs, description: "Hangfire jobs by state: enqueued, scheduled, processing, failed (counted at most every 15 s)");
    }

    /// <summary>The task of the count in progress, if any (tests wait for it).</summary>
    internal Task Refreshing { get; private set; } = Task.CompletedTask;

    private IEnumerable<Measurement<long>> ObservePending()
    {
        RefreshIfOld();
        return _counts is { ReviewPending: { } pending } ? [new Measurement<long>(pending)] : [];
    }

    private IEnumerable<Measurement<long>> ObserveJobs()
    {
        RefreshIfOld();
        if (_counts is not { Jobs: { } jobs })
        {
            return [];
        }

        return
        [
            new Measurement<long>(jobs.Enqueued, new KeyValuePair<string, object?>("state", "enqueued")),
            new Measurement<long>(jobs.Scheduled, new KeyValuePair<string, object?>("state", "scheduled")),
            new Measurement<long>(jobs.Processing, new KeyValuePair<string, object?>("state", "processing")),
            new Measurement<long>(jobs.Failed, new KeyValuePair<string, object?>("state", "failed")),
        ];
    }

    private void RefreshIfOld()
    {
        if ((_counts is not null && Environment.TickCount64 - Interlocked.Read(ref _countedAt) < (long)RefreshAfter.TotalMilliseconds)
            || Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        Refreshing = Task.Run(RefreshAsync);
    }

    private async Task RefreshAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            long? pending = null;
            JobCounts? jobs = null;
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
                pending = await db.ReviewRequests.CountAsync(r => r.Status == VerdictText.Pending, timeout.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                HostingLog.QueueCountFailed(_logger, "review requests", e.GetType().Name);
            }

            try
            {
                var statistics = _services.GetRequiredService<JobStorage>().GetMonitoringApi().GetStatistics();
                jobs = new JobCounts(statistics.Enqueued, statistics.Scheduled, statistics.Processing, statistics.Failed);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                HostingLog.QueueCountFailed(_logger, "Hangfire jobs", e.GetType().Name);
            }

            // A count that failed is left out rather than reported as the last good (or zero) value.
            _counts = new Counts(pending, jobs);
            Interlocked.Exchange(ref _countedAt, Environment.TickCount64);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private sealed record Counts(long? ReviewPending, JobCounts? Jobs);

    private sealed record JobCounts(long Enqueued, long Scheduled, long Processing, long Failed);
}
