using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Typosquat;

internal static class TyposquatRegistration
{
    /// <summary>Typosquat detection for requests and jobs, and the job that screens new upstream names.</summary>
    public static void AddTyposquat(this WebApplicationBuilder builder)
    {
        builder.Services.AddTyposquatDetection(builder.Environment.ContentRootPath);
        builder.Services.AddUpstreamNameScreening();
    }

    /// <summary>
    /// The seam for request handling and jobs: <see cref="TyposquatOptions"/> and a singleton
    /// <see cref="TyposquatDetector"/> over the configured corpus, built on first use. Callers that know the
    /// organization's approved and internal names use <see cref="TyposquatDetector.WithOrganizationNames"/>.
    /// </summary>
    public static IServiceCollection AddTyposquatDetection(this IServiceCollection services, string contentRoot)
    {
        services.AddOptions<TyposquatOptions>().BindConfiguration(TyposquatOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => TyposquatCorpus.Load(sp.GetRequiredService<IOptions<TyposquatOptions>>().Value.ResolveCorpusPath(contentRoot)));
        services.AddSingleton(sp => new TyposquatDetector(sp.GetRequiredService<TyposquatCorpus>()));
        services.AddSingleton<TyposquatScreening>();
        return services;
    }
}
