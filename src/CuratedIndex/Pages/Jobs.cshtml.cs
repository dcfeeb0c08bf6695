using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.ReviewUi;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Pages;

/// <summary>
/// Every background job: schedule, last and next run, recent failures, progress; admins can run one now. Below, enqueued
/// work that failed for good (its retries spent), from Hangfire's storage.
/// </summary>
internal sealed class JobsModel(
    CuratedIndexDbContext db,
    JobCatalog catalog,
    JobTrigger trigger,
    JobStorage storage,
    IOptions<JobsOptions> options,
    IAuthorizationService authorization) : PageModel
{
    public const int RecentFailures = 5;

    public sealed record JobView(CatalogedJob Job, JobRun? LastRun, JobRun? Running, IReadOnlyList<JobRun> Failures, DateTime? NextRun);

    /// <summary>Enqueued work whose retries are spent: its Hangfire job id, the work's type, when and why it failed.</summary>
    public sealed record FailedWork(string Id, string Work, DateTime? FailedAt, string? Reason);

    public IReadOnlyList<JobView> Jobs { get; private set; } = [];

    public IReadOnlyList<FailedWork> FailedWorkItems { get; private set; } = [];

    public bool ServerRunning => options.Value.Enabled;

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

        var (outcome, found) = await trigger.TriggerAsync(job, User.Identity!.Name!, "/ui/jobs", cancellationToken);
        switch (outcome)
        {
            case TriggerOutcome.UnknownJob:
                Problem = $"There is no job '{job}'.";
                Response.StatusCode = StatusCodes.Status404NotFound;
                break;
            case TriggerOutcome.ServerOff:
                Problem = "No job server runs on this node (Jobs:Enabled is false).";
                Response.StatusCode = StatusCodes.Status409Conflict;
                break;
            default:
                Message = $"Job '{found!.Key}' triggered; it runs on the next free worker of the cluster.";
                break;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanRun = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
        var keys = catalog.Jobs.Select(j => j.Key).ToList();
        Dictionary<string, DateTime?> next;
        using (var connection = storage.GetConnection())
        {
            next = connection.GetRecurringJobs(keys).Where(r => !r.Removed).ToDictionary(r => r.Id, r => r.NextExecution, StringComparer.Ordinal);
        }

        var views = new List<JobView>();
        foreach (var job in catalog.Jobs)
        {
            var runs = db.JobRuns.AsNoTracking().Where(r => r.JobKey == job.Key);
            var last = await runs.OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
            var running = await runs.Where(r => r.Status == JobRunState.Running).OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
            var failures = await runs.Where(r => r.Status == JobRunState.Failed).OrderByDescending(r => r.Id).Take(RecentFailures).ToListAsync(cancellationToken);
            views.Add(new JobView(job, last, running, failures, job.Schedule.IsManual ? null : next.GetValueOrDefault(job.Key)));
        }

        Jobs = views;
        FailedWorkItems = storage.GetMonitoringApi().FailedJobs(0, 20)
            .Where(f => f.Value.Job?.Type is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(QueuedWorkRunner<,>))
            .Select(f => new FailedWork(f.Key, f.Value.Job!.Type.GetGenericArguments()[0].Name, f.Value.FailedAt, f.Value.ExceptionMessage ?? f.Value.Reason))
            .ToList();
    }
}
