using System.Collections.Concurrent;
using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Jobs;

/// <summary>One run (one attempt) of a job, as the job sees it.</summary>
public sealed class JobRunContext(string runId, string jobKey)
{
    /// <summary>Unique per attempt: the Hangfire job id and the attempt's own id.</summary>
    public string RunId { get; } = runId;

    public string JobKey { get; } = jobKey;

    /// <summary>The message a successful run ends with; set through <see cref="JobRunRecorder.SetResult"/>.</summary>
    public string? Result { get; internal set; }
}

/// <summary>Lets a long job say how far it is; shown on <c>/ui/jobs</c>. Writes are throttled (<c>Jobs:ProgressInterval</c>).</summary>
public interface IJobProgress
{
    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> items for the run behind <paramref name="context"/>.</summary>
    Task ReportAsync(JobRunContext context, long done, long total, CancellationToken cancellationToken);
}

/// <summary>
/// Writes <c>job_runs</c>: a row when a run starts, progress while it runs, the outcome when it ends. Bookkeeping never
/// fails a job: database errors here are logged and the job goes on.
/// </summary>
public sealed class JobRunRecorder(IServiceScopeFactory scopes, TimeProvider clock, IOptions<JobsOptions> options, ILogger<JobRunRecorder> logger) : IJobProgress
{
    private readonly ConcurrentDictionary<string, RunState> _running = new(StringComparer.Ordinal);

    public async Task StartAsync(string runId, string jobKey, string node, string startedBy, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var run = new JobRun
            {
                JobKey = jobKey,
                Node = node,
                StartedBy = startedBy,
                Status = JobRunState.Running,
                StartedAt = clock.GetUtcNow().UtcDateTime,
            };
            db.JobRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
            _running[runId] = new RunState(run.Id, jobKey);
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            JobsLog.BookkeepingFailed(logger, jobKey, e);
        }
    }

    /// <summary>
    /// Marks runs of <paramref name="jobKey"/> still recorded as running as failed: called while holding the job's
    /// cluster-wide lock, so none of them is running anywhere; their node stopped in the middle (killed, lost power).
    /// </summary>
    public async Task AbandonRunningAsync(string jobKey, string node, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var message = $"its node stopped during the run; the job ran again on {node}";
            await db.JobRuns.Where(r => r.JobKey == jobKey && r.Status == JobRunState.Running)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(r => r.Status, JobRunState.Failed)
                        .SetProperty(r => r.FinishedAt, clock.GetUtcNow().UtcDateTime)
                        .SetProperty(r => r.Message, message),
                    cancellationToken);
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            JobsLog.BookkeepingFailed(logger, jobKey, e);
        }
    }

    /// <summary>Ends a run: succeeded with <paramref name="result"/> (what the job set with <see cref="SetResult"/>), or failed.</summary>
    public async Task FinishAsync(string runId, Exception? failure, string? result, CancellationToken cancellationToken)
    {
        if (!_running.TryRemove(runId, out var state))
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var run = await db.JobRuns.SingleAsync(r => r.Id == state.RunId, cancellationToken);
            run.FinishedAt = clock.GetUtcNow().UtcDateTime;
            run.Status = failure is null ? JobRunState.Succeeded : JobRunState.Failed;
            var message = failure is null ? result : Describe(failure);
            run.Message = message is { Length: > 2000 } ? message[..2000] : message;
            if (failure is null && run.Progress is not null)
            {
                run.Progress = 1;
            }

            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            JobsLog.BookkeepingFailed(logger, state.JobKey, e);
        }
    }

    /// <summary>Sets the message a successful run ends with (a summary such as "12 verified, 1 re-fetched").</summary>
    public static void SetResult(JobRunContext context, string message) => context.Result = message;

    public async Task ReportAsync(JobRunContext context, long done, long total, CancellationToken cancellationToken)
    {
        if (!_running.TryGetValue(context.RunId, out var state))
        {
            return;
        }

        var now = clock.GetUtcNow();
        if (done < total && now - state.LastWrite < options.Value.ProgressInterval)
        {
            return;
        }

        state.LastWrite = now;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            var fraction = total <= 0 ? 1 : Math.Clamp((double)done / total, 0, 1);
            var text = $"{done} of {total}";
            await db.JobRuns.Where(r => r.Id == state.RunId)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Progress, fraction).SetProperty(r => r.ProgressText, text), cancellationToken);
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            JobsLog.BookkeepingFailed(logger, state.JobKey, e);
        }
    }

    private static string Describe(Exception failure)
    {
        // A wrapped exception (an aggregate, a reflection wrapper) is not the one worth showing: what the job threw is.
        var inner = failure.GetBaseException();
        return $"{inner.GetType().Name}: {inner.Message}";
    }

    private sealed class RunState(long runId, string jobKey)
    {
        public long RunId { get; } = runId;

        public string JobKey { get; } = jobKey;

        public DateTimeOffset LastWrite { get; set; } = DateTimeOffset.MinValue;
    }
}
