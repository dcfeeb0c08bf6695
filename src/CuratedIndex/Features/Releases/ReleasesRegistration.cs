using CuratedIndex.Features.Jobs;
using CuratedIndex.Hosting;

namespace CuratedIndex.Features.Releases;

public static class ReleasesRegistration
{
    /// <summary>Tier 3: vetting, what was first seen when, anomaly signals, pin alerts, release demand and policy vetting.</summary>
    public static void AddReleases(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PinMismatchAlerts>();
        builder.Services.AddSingleton<ReleaseObserver>();
        builder.Services.AddSingleton<ReleaseVetting>();
        builder.Services.AddSingleton<ReleaseDemand>();
        builder.Services.AddSingleton<Tier3Requests>();
        builder.Services.AddSingleton<ReleaseReview>();
        builder.Services.AddValidatedOptions<ArchiveLimits>(ArchiveLimits.Section);
        builder.Services.AddSingleton<ReleaseArchives>();
        builder.Services.AddQueuedWork<PinnedFilesWork>();
        builder.Services.AddCuratedIndexJob<PolicyVettingJob>(
            PolicyVettingJob.Key,
            "Vets releases matching 'vet:' in policy files once they passed the cooldown, pinning the files upstream lists then.",
            PolicyVettingJob.DefaultSchedule);
    }
}
