using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Typosquat;

/// <summary>
/// <c>curated-index typosquat-check</c>: names (one per line, or a requirements file) on standard input, one
/// tab-separated line per flagged name on standard output. Needs no database: the corpus is read from configuration.
/// </summary>
internal static class TyposquatCheck
{
    public const int Clean = 0;
    public const int Flagged = 1;
    public const int Refused = 2;

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        TyposquatDetector detector;
        try
        {
            detector = new TyposquatDetector(TyposquatCorpus.Load(CorpusPath(args)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ValidationException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return Refused;
        }

        var flagged = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in RequirementNames.Read(input))
        {
            if (seen.Add(name) && detector.Check(name) is { } finding)
            {
                flagged++;
                await output.WriteLineAsync(finding.ToTsv());
            }
        }

        return flagged == 0 ? Clean : Flagged;
    }

    /// <summary>
    /// <c>Typosquat:CorpusPath</c> from the same sources the server reads (appsettings, environment, arguments),
    /// resolved against the content root, else against the executable's directory where <c>config/</c> is shipped.
    /// </summary>
    internal static string CorpusPath(string[] args)
    {
        var contentRoot = args.FirstOrDefault(a => a.StartsWith("--contentRoot=", StringComparison.Ordinal))?["--contentRoot=".Length..]
            ?? Directory.GetCurrentDirectory();
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(contentRoot, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var options = configuration.GetSection(TyposquatOptions.Section).Get<TyposquatOptions>() ?? new TyposquatOptions();
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        return options.ResolveCorpusPath(contentRoot);
    }
}
