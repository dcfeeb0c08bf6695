using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CuratedIndex.Hosting;

/// <summary>Where configuration comes from, in rank order, and how the host logs.</summary>
public static class HostConfiguration
{
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot(args) });
        // The shipped defaults sit next to the executable and rank below every other source.
        var defaults = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = Path.Combine(AppContext.BaseDirectory, "appsettings.json"),
            Optional = true,
        };
        defaults.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, defaults);
        builder.Configuration.AddJsonFile(Path.Combine(builder.Environment.ContentRootPath, "config", "reverseproxy.json"), optional: true);
        builder.Configuration.AddJsonFile(Path.Combine(builder.Environment.ContentRootPath, "config", "logging.json"), optional: true);
        // Later sources win: environment variables and arguments override the config/ files.
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        configure?.Invoke(builder);

        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });

        // TryAdd: a host (a test) may bring its own clock through `configure`.
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder;
    }

    // `dotnet run --project src/CuratedIndex` starts in the repository root, where config/ and policies/ live.
    private static string ContentRoot(string[] args)
    {
        var explicitRoot = args.FirstOrDefault(a => a.StartsWith("--contentRoot=", StringComparison.Ordinal));
        return explicitRoot?["--contentRoot=".Length..] ?? Directory.GetCurrentDirectory();
    }
}
