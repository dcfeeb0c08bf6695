using System.Collections.Concurrent;
using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Review;

/// <summary>Whether an index request got what it asked for.</summary>
public static class RequestOutcome
{
    public const string Served = "served";
    public const string Blocked = "blocked";
}

/// <summary>
/// Counts project-page requests per day, environment and outcome in memory, and adds them to
/// <c>daily_request_counts</c> every few seconds and at shutdown, so the hot path never waits for the database.
/// </summary>
public sealed class RequestCounter(IServiceScopeFactory scopes, TimeProvider clock, ILogger<RequestCounter> logger) : BackgroundService
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private ConcurrentDictionary<(DateOnly Day, string Environment, string Outcome), long> _pending = new();

    public void Count(string environment, string outcome)
    {
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        _pending.AddOrUpdate((day, environment, outcome), 1, (_, count) => count + 1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Flushing is paced by wall time, not the application's clock (which only dates the counts): a clock moved a week
        // ahead must not fire a week of flushes at once.
        using var timer = new PeriodicTimer(FlushInterval, TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var batch = Interlocked.Exchange(ref _pending, new());
        if (batch.IsEmpty)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            foreach (var ((day, environment, outcome), count) in batch)
            {
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO daily_request_counts (day, environment, outcome, count) VALUES ({day}, {environment}, {outcome}, {count})
                    ON CONFLICT (day, environment, outcome) DO UPDATE SET count = daily_request_counts.count + excluded.count
                    """, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Keep the counts for the next attempt rather than lose them.
            foreach (var (key, count) in batch)
            {
                _pending.AddOrUpdate(key, count, (_, pending) => pending + count);
            }

            ReviewLog.CountsFailed(logger, e);
        }
    }
}
