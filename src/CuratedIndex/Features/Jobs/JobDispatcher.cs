using CuratedIndex.Data;
using Hangfire;
using Hangfire.Server;

namespace CuratedIndex.Features.Jobs;

/// <summary>
/// What Hangfire stores and runs for a catalog job: a call to <see cref="RunScheduledAsync"/> with the job's key.
/// Hangfire makes a DI scope per run; the dispatcher resolves the job in it, keeps the <c>job_runs</c> bookkeeping and
/// logs failures. Our jobs never depend on Hangfire types, so the seam stays ours.
/// </summary>
public sealed class JobDispatcher(IServiceProvider services, JobCatalog catalog, JobRunRecorder recorder, ClusterLocks locks, ILogger<JobDispatcher> logger)
{
    /// <summary>How long a run waits for another run of the same key (on any node) before it is skipped.</summary>
    private static readonly TimeSpan SameKeyWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// One run of a catalog job. No automatic retry: a failed run is recorded in <c>job_runs</c> and the next scheduled
    /// run is its retry; Hangfire's copy moves to its deleted state (which expires) rather than piling up as failed jobs.
    /// A run cut short by a shutdown is run again.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [JobDisplayName("{0} ({1})")]
    public async Task RunScheduledAsync(string jobKey, string startedBy, PerformContext? perform, CancellationToken cancellationToken)
    {
        var job = catalog.Find(jobKey) ?? throw new WorkRefusedException($"there is no job '{jobKey}' in this build");
        var context = new JobRunContext(RunId(perform), job.Key);

        // At most one run per key across the cluster. A PostgreSQL advisory lock, not Hangfire's lock row: a node killed
        // in the middle of a run releases it with its connection, so the run Hangfire hands to another node is not skipped.
        await using var sameKey = await locks.TryAcquireAsync($"job:{job.Key}", SameKeyWait, cancellationToken);
        if (sameKey is null)
        {
            JobsLog.Skipped(logger, job.Key);
            return;
        }

        await recorder.AbandonRunningAsync(job.Key, Node, cancellationToken);
        await RunRecordedAsync(context, startedBy, token => ((IScheduledJob)services.GetRequiredService(job.JobType)).RunAsync(context, token), cancellationToken);
    }

    /// <summary>The <c>job_runs</c> key of enqueued work: its type's name.</summary>
    public static string WorkKey(Type work) => $"work:{work.Name}";

    /// <summary>Runs <paramref name="run"/> as one recorded run: a <c>job_runs</c> row from start to outcome; failures are logged and rethrown.</summary>
    internal async Task RunRecordedAsync(JobRunContext context, string startedBy, Func<CancellationToken, Task> run, CancellationToken cancellationToken)
    {
        await recorder.StartAsync(context.RunId, context.JobKey, Node, startedBy, cancellationToken);
        run = services.GetRequiredService<CuratedIndex.Hosting.CuratedIndexMetrics>().Measured(context.JobKey, run);
        try
        {
            await run(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A shutdown (or a deleted job): Hangfire puts the job back in the queue and it runs again.
            await recorder.FinishAsync(context.RunId, new OperationCanceledException("interrupted by a shutdown; it runs again"), null, CancellationToken.None);
            throw;
        }
        catch (Exception e)
        {
            JobsLog.JobFailed(logger, context.JobKey, e);
            await recorder.FinishAsync(context.RunId, e, null, CancellationToken.None);
            throw;
        }

        await recorder.FinishAsync(context.RunId, null, context.Result, CancellationToken.None);
    }

    private static string Node => $"{Environment.MachineName}/{Environment.ProcessId}";

    internal static string RunId(PerformContext? perform) =>
        perform is null ? Guid.NewGuid().ToString("N") : $"{perform.BackgroundJob.Id}/{Guid.NewGuid():N}";
}

/// <summary>
/// What Hangfire stores and runs for enqueued work: a call on this closed generic type (Hangfire records the type with its
/// type arguments) with the work's arguments. The work is resolved from the run's own DI scope.
/// </summary>
public sealed class QueuedWorkRunner<TWork, TArgs>(IServiceProvider services, JobDispatcher dispatcher)
    where TWork : class, IQueuedWork<TArgs>
{
    /// <summary>Attempts of enqueued work before it fails for good.</summary>
    public const int Attempts = 5;

    /// <summary>
    /// One attempt. Transient failures are retried after 5 s, 30 s, 2 min, 10 min and 30 min; <see cref="WorkRefusedException"/>
    /// is not retried. Work whose retries are spent stays in Hangfire's failed list, shown on <c>/ui/jobs</c>.
    /// </summary>
    [AutomaticRetry(Attempts = Attempts, DelaysInSeconds = [5, 30, 120, 600, 1800], ExceptOn = [typeof(WorkRefusedException)])]
    [JobDisplayName("work {0}")]
    public Task RunAsync(TArgs args, PerformContext? perform, CancellationToken cancellationToken)
    {
        var context = new JobRunContext(JobDispatcher.RunId(perform), JobDispatcher.WorkKey(typeof(TWork)));
        return dispatcher.RunRecordedAsync(context, "queue", token => services.GetRequiredService<TWork>().RunAsync(args, context, token), cancellationToken);
    }
}
