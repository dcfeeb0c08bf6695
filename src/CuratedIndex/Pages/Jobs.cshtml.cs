using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.ReviewUi;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace CuratedIndex.Pages;

/// <summary>Every background job: schedule, last and next run, recent failures, progress; admins can run one now.</summary>
internal sealed class JobsModel(
    CuratedIndexDbContext db,
    JobCatalog catalog,
    IAuthorizationService authorization,
    AuditLog audit,
    IServiceProvider services,
    ILogger<JobsModel> logger) : PageModel
{
    public const int RecentFailures = 5;

    public sealed record JobView(CatalogedJob Job, JobRun? LastRun, JobRun? Running, IReadOnlyList<JobRun> Failures, DateTimeOffset? NextRun);

    public IReadOnlyList<JobView> Jobs { get; private set; } = [];

    public bool SchedulerRunning { get; private set; }

    public bool CanRun { get; private set; }

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostRunAsync(string? job, CancellationToken cancellationToken)
    {
        // The page is open to every signed-in account; running a job is for admins, checked here.
        if (await this.RequirePolicyAsync(authorization, AccessPolicies.UiAdminister) is { } refusal)
        {
            return refusal;
        }

        var found = job is null ? null : catalog.Find(job);
        var scheduler = await SchedulerAsync(cancellationToken);
        if (found is null)
        {
            Problem = $"There is no job '{job}'.";
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        else if (scheduler is null)
        {
            Problem = "The scheduler is not running on this node (Jobs:Enabled is false).";
            Response.StatusCode = StatusCodes.Status409Conflict;
        }
        else
        {
            var actor = User.Identity!.Name!;
            await scheduler.TriggerJob(found.JobKey, new JobDataMap { [JobRunRecorder.StartedByKey] = $"manual:{actor}" }, cancellationToken);
            await audit.AppendAsync(new AuditEntry(actor, AuditAction.JobTrigger, $"job:{found.Key}", "run now from /ui/jobs"), cancellationToken);
            JobsLog.Triggered(logger, found.Key, actor);
            Message = $"Job '{found.Key}' triggered; it runs on the next free worker of the cluster.";
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task<IScheduler?> SchedulerAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<ISchedulerFactory>() is not { } factory)
        {
            return null;
        }

        var scheduler = await factory.GetScheduler(cancellationToken);
        return await scheduler.GetStatus(cancellationToken) == SchedulerStatus.Running ? scheduler : null;
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanRun = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
        var scheduler = await SchedulerAsync(cancellationToken);
        SchedulerRunning = scheduler is not null;
        var views = new List<JobView>();
        foreach (var job in catalog.Jobs)
        {
            var runs = db.JobRuns.AsNoTracking().Where(r => r.JobKey == job.Key);
            var last = await runs.OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
            var running = await runs.Where(r => r.Status == JobRunState.Running).OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
            var failures = await runs.Where(r => r.Status == JobRunState.Failed).OrderByDescending(r => r.Id).Take(RecentFailures).ToListAsync(cancellationToken);
            var next = scheduler is null ? null : (await scheduler.GetTrigger(job.TriggerKey, cancellationToken))?.NextFireTimeUtc;
            views.Add(new JobView(job, last, running, failures, next));
        }

        Jobs = views;
    }
}
