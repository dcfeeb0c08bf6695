using System.Collections.Frozen;
using CuratedIndex.Data;
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
public sealed class CurationStore(PolicyStore policies, IServiceScopeFactory scopes, TyposquatScreening? screening = null) : IDisposable
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

            var byProject = new Dictionary<string, ReviewerVerdict>(reviews.ByProject, StringComparer.Ordinal);
            foreach (var decision in newer)
            {
                byProject[decision.Project] = new ReviewerVerdict(VerdictText.Parse(decision.Verdict), decision.Reason, decision.Actor, decision.DecidedAt, decision.Id);
            }

            var updated = new ReviewerDecisions(byProject.ToFrozenDictionary(StringComparer.Ordinal), newer[^1].Id);
            _current = new Curation(policies.Current, updated) { Screening = screening };
        }
        finally
        {
            _refreshGate.Release();
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
