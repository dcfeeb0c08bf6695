using CuratedIndex.Features.Jobs;
using CuratedIndex.Hosting;

namespace CuratedIndex.Features.Provenance;

public static class ProvenanceRegistration
{
    /// <summary>PEP 740 provenance: the trusted root, verification and storage, vetted publishers and automatic vetting.</summary>
    public static void AddProvenance(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ProvenanceOptions>(ProvenanceOptions.Section);
        builder.Services.AddSingleton<TrustedRootSource>();
        builder.Services.AddSingleton<ProvenanceChecks>();
        builder.Services.AddSingleton<PublisherVetting>();
        builder.Services.AddSingleton<AutoVetting>();
        builder.Services.AddQueuedWork<ProvenanceWork>();
        builder.Services.AddQueuedWork<AutoVettingWork>();
        builder.Services.AddCuratedIndexJob<AutoVettingJob>(
            AutoVettingJob.Key,
            "Vets releases whose every file's provenance verified to a vetted publisher, once they passed the cooldown.",
            AutoVettingJob.DefaultSchedule);
    }
}
