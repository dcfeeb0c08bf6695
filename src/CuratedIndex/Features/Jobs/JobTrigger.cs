using CuratedIndex.Features.Audit;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Jobs;

/// <summary>What became of a "Run now".</summary>
public enum TriggerOutcome
{
    Triggered,
    UnknownJob,
    ServerOff,
}

/// <summary>
/// "Run now" (the jobs page and <c>POST /api/v1/jobs/{key}/run</c>): one run of a catalog job, audited as <c>job.trigger</c>.
/// The run and its audit record commit together although they live in two stores: the run is created held (in Hangfire's
/// deleted state, which no worker picks up), the audit record is committed, and only then is the run released to the
/// queue. If the audit write fails the held run is deleted; if the process dies in between, the run never happens.
/// </summary>
public sealed class JobTrigger(JobCatalog catalog, AuditLog audit, IOptions<JobsOptions> options, IServiceProvider services, ILogger<JobTrigger> logger)
{
    public async Task<(TriggerOutcome Outcome, CatalogedJob? Job)> TriggerAsync(string? key, string actor, string via, CancellationToken cancellationToken)
    {
        if ((key is null ? null : catalog.Find(key)) is not { } job)
        {
            return (TriggerOutcome.UnknownJob, null);
        }

        // Without a server on this node nothing would run the job here (on SQLite, nowhere): say so rather than queue it.
        if (!options.Value.Enabled)
        {
            return (TriggerOutcome.ServerOff, job);
        }

        var client = services.GetRequiredService<IBackgroundJobClient>();
        var startedBy = $"manual:{actor}";
        var id = client.Create<JobDispatcher>(d => d.RunScheduledAsync(job.Key, startedBy, null, CancellationToken.None), new DeletedState());
        try
        {
            await audit.AppendAsync(new AuditEntry(actor, AuditAction.JobTrigger, $"job:{job.Key}", $"run now from {via} (run {id})"), cancellationToken);
        }
        catch
        {
            client.Delete(id);
            throw;
        }

        if (!client.Requeue(id))
        {
            throw new InvalidOperationException($"the run {id} of job '{job.Key}' could not be queued");
        }

        JobsLog.Triggered(logger, job.Key, actor);
        return (TriggerOutcome.Triggered, job);
    }
}
