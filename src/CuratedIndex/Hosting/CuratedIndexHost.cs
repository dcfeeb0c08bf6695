using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Files;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.JsonApi;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Hosting;

/// <summary>Builds the one deployable: configuration, services per feature, and the request pipeline.</summary>
public static class CuratedIndexHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
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

        builder.AddCuratedIndexData();
        // TryAdd: a host (a test) may bring its own clock through `configure`.
        builder.Services.TryAddSingleton(TimeProvider.System);
        AddOptions<UpstreamOptions>(builder, UpstreamOptions.Section);
        AddOptions<StorageOptions>(builder, StorageOptions.Section);
        AddOptions<PolicyOptions>(builder, PolicyOptions.Section);
        AddOptions<CacheOptions>(builder, CacheOptions.Section);
        AddOptions<ReviewOptions>(builder, ReviewOptions.Section);

        builder.Services.AddSingleton<PolicyStore>();
        builder.Services.AddSingleton<CurationStore>();
        builder.Services.AddHostedService<CurationRefresher>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<ReviewQueue>();
        builder.Services.AddSingleton<CuratedIndex.Features.Alerts.DependencyConfusionAlerts>();
        builder.Services.AddSingleton<RequestCounter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RequestCounter>());
        builder.Services.AddTyposquatDetection(builder.Environment.ContentRootPath);
        builder.AddCuratedIndexAccounts();
        builder.Services.AddRazorPages(o =>
        {
            // Every page needs a signed-in account but the sign-in page; pages that change things ask for more.
            o.Conventions.AuthorizeFolder("/", AccessPolicies.UiView);
            o.Conventions.AllowAnonymousToPage("/Login");
        });
        builder.AddReviewUi();
        builder.Services.AddSingleton<IArtifactStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return options.Provider switch
            {
                StorageProvider.FileSystem => new FileSystemArtifactStore(Path.IsPathRooted(options.Path) ? options.Path : Path.Combine(builder.Environment.ContentRootPath, options.Path)),
                _ => throw new InvalidOperationException($"Storage:Provider '{options.Provider}' is not available in this build."),
            };
        });

        // The upstream is a YARP cluster: destinations from Upstream:Url/Mirrors, health checks from config/reverseproxy.json.
        UpstreamCluster.AddDestinations(builder.Configuration);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<UpstreamCluster>();
        builder.Services.AddSingleton<FileHostGuard>();
        UpstreamPageClient.Configure(builder.Services);
        builder.Services.AddSingleton<ProjectPageCache>();
        builder.Services.AddSingleton<JsonApiCache>();
        builder.Services.AddSingleton<RenderCache>();
        builder.Services.AddSingleton<SimplePageRenderer>();
        builder.Services.AddSingleton<RootIndexService>();
        builder.Services.AddSingleton<ArtifactFetcher>();
        builder.Services.AddSingleton<ProvenanceInvoker>();
        builder.AddCuratedIndexJobs();
        builder.Services.AddArtifactScrubbing();
        builder.Services.AddUpstreamWatch();
        builder.Services.AddUpstreamNameScreening();

        builder.Services.AddTrustedForwardedHeaders();

        var app = builder.Build();

        // Middleware order matters: refuse hostile paths before anything reads them.
        app.UseMiddleware<PathGuardMiddleware>();
        app.UseForwardedHeaders();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapSimpleIndex();
        app.MapFiles();
        app.MapProvenance();
        app.MapJsonApi();
        var api = app.MapGroup("/api/v1");
        api.MapReviewApi();
        api.MapExplainApi();
        api.MapAuditApi();
        api.MapAccountsApi();
        app.MapRazorPages();
        // YARP's proxy state (health checks of the upstream cluster) lives in the proxy pipeline; no routes are configured.
        app.MapReverseProxy();
        return app;
    }

    /// <summary>Loads policies and applies migrations where configured; a bad policy file stops here with its file, line and problem.</summary>
    public static async Task PrepareAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var policy = app.Services.GetRequiredService<PolicyStore>().Load();
        TyposquatRegistration.RequireCorpusWhereBlocking(app.Services, policy, app.Environment.ContentRootPath);
        var database = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (database.MigrateOnStartup ?? database.Provider == DatabaseProvider.Sqlite)
        {
            await DataRegistration.MigrateAsync(app.Services, cancellationToken);
            HostingLog.Migrated(app.Logger, database.Provider.ToString());
        }

        await app.Services.GetRequiredService<CurationStore>().RefreshAsync(cancellationToken);
        await PolicyAudit.RecordIfChangedAsync(app.Services, cancellationToken);
    }

    private static void AddOptions<T>(WebApplicationBuilder builder, string section)
        where T : class =>
        builder.Services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    // `dotnet run --project src/CuratedIndex` starts in the repository root, where config/ and policies/ live.
    private static string ContentRoot(string[] args)
    {
        var explicitRoot = args.FirstOrDefault(a => a.StartsWith("--contentRoot=", StringComparison.Ordinal));
        return explicitRoot?["--contentRoot=".Length..] ?? Directory.GetCurrentDirectory();
    }
}
