using CuratedIndex.Features.Policies;
using CuratedIndex.Hosting;
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
        services.AddValidatedOptions<TyposquatOptions>(TyposquatOptions.Section);
        services.AddSingleton(sp => TyposquatCorpus.Load(sp.GetRequiredService<IOptions<TyposquatOptions>>().Value.ResolveCorpusPath(contentRoot)));
        services.AddSingleton(sp => new TyposquatDetector(sp.GetRequiredService<TyposquatCorpus>()));
        services.AddSingleton<TyposquatScreening>();
        return services;
    }

    /// <summary>
    /// An environment with <c>typosquat: block</c> promises that lookalikes never reach it; without a corpus nothing would be
    /// compared and every lookalike would pass (fail open). So such an environment with no loadable, non-empty corpus stops
    /// startup with one line naming the environment and the key. Environments that only warn start without one (logged).
    /// </summary>
    public static void RequireCorpusWhereBlocking(IServiceProvider services, PolicySnapshot policy, string contentRoot)
    {
        var blocking = policy.Environments.Values.Where(e => e.Typosquat == TyposquatMode.Block).Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        if (blocking.Count == 0)
        {
            return;
        }

        string? problem;
        Exception? cause = null;
        try
        {
            problem = services.GetRequiredService<TyposquatCorpus>().Projects.Count == 0 ? "it lists no projects" : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException)
        {
            problem = e is FileNotFoundException or DirectoryNotFoundException ? "the file does not exist" : e.Message.ReplaceLineEndings(" ");
            cause = e;
        }

        if (problem is not null)
        {
            var path = services.GetRequiredService<IOptions<TyposquatOptions>>().Value.ResolveCorpusPath(contentRoot);
            var environments = string.Join(", ", blocking.Select(b => $"'{b}'"));
            throw new StartupRefusedException(
                $"environment {environments} has typosquat: block, but the corpus Typosquat:CorpusPath ({path}) cannot be used: {problem}; fix Typosquat:CorpusPath or set typosquat: warn",
                cause);
        }
    }
}
