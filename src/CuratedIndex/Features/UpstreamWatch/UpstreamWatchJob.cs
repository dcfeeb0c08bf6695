using CuratedIndex.Features.Jobs;

namespace CuratedIndex.Features.UpstreamWatch;

/// <summary>
/// The background job of the upstream watch: one pass of <see cref="UpstreamWatcher"/>. Schedule:
/// <c>Jobs:UpstreamWatch:Schedule</c> (registered with the scheduler by the jobs feature).
/// </summary>
public sealed class UpstreamWatchJob(UpstreamWatcher watcher) : IScheduledJob
{
    public const string Key = "UpstreamWatch";

    /// <summary>Every 15 minutes (UTC), when <c>Jobs:UpstreamWatch:Schedule</c> is not set.</summary>
    public const string DefaultSchedule = "*/15 * * * *";

    public Task RunAsync(JobRunContext context, CancellationToken cancellationToken) => watcher.RunOnceAsync(cancellationToken);
}

public static class UpstreamWatchRegistration
{
    /// <summary>The watcher is a singleton: the job calls it, and tests call <see cref="UpstreamWatcher.RunOnceAsync"/> directly.</summary>
    public static IServiceCollection AddUpstreamWatch(this IServiceCollection services)
    {
        services.AddSingleton<UpstreamWatcher>();
        services.AddCuratedIndexJob<UpstreamWatchJob>(
            UpstreamWatchJob.Key,
            "Revalidates every approved project upstream: new, removed and yanked files, PEP 792 status.",
            UpstreamWatchJob.DefaultSchedule);
        return services;
    }
}
