using CuratedIndex.Hosting;
namespace CuratedIndex.Features.Review;

public static class ReviewRegistration
{
    /// <summary>The review queue (demand, decisions) and the per-environment request counters, flushed in the background.</summary>
    public static void AddReview(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ReviewOptions>(ReviewOptions.Section);
        builder.Services.AddSingleton<ReviewQueue>();
        builder.Services.AddSingleton<RequestCounter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RequestCounter>());
    }
}
