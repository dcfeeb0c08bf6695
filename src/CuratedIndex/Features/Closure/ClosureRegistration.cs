using CuratedIndex.Features.Jobs;
using CuratedIndex.Hosting;

namespace CuratedIndex.Features.Closure;

public static class ClosureRegistration
{
    /// <summary>Dependency closures: metadata from verified bytes, the walk, statuses, "with dependencies" decisions and the Closures job.</summary>
    public static void AddClosures(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ClosureOptions>(ClosureOptions.Section);
        builder.Services.AddSingleton<ReleaseMetadata>();
        builder.Services.AddSingleton<ClosureStatuses>();
        builder.Services.AddSingleton<ClosureService>();
        builder.Services.AddSingleton<ClosureDecisions>();
        builder.Services.AddCuratedIndexJob<ClosuresJob>(
            ClosuresJob.Key,
            "Computes the dependency closures of pending review requests, so the queue shows the work each one leaves.",
            ClosuresJob.DefaultSchedule);
    }
}
