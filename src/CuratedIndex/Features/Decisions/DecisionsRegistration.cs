namespace CuratedIndex.Features.Decisions;

public static class DecisionsRegistration
{
    /// <summary>The <see cref="Curation"/> in force (policy files and reviewer decisions), kept current by a refresher; explain is its API.</summary>
    public static void AddDecisions(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CurationStore>();
        builder.Services.AddHostedService<CurationRefresher>();
    }
}
