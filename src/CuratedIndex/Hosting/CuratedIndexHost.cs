using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Closure;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Files;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.JsonApi;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Storage;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Hosting;

/// <summary>Builds the one deployable: configuration, one AddX per feature, the request pipeline and one MapX per feature.</summary>
public static class CuratedIndexHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = HostConfiguration.CreateBuilder(args, configure);

        builder.AddCuratedIndexData();
        builder.AddPolicies();
        builder.AddDecisions();
        builder.AddAudit();
        builder.AddReview();
        builder.AddAlerts();
        builder.AddTyposquat();
        builder.AddCuratedIndexAccounts();
        builder.AddReviewUi();
        builder.AddArtifactStore();
        builder.AddUpstream();
        builder.AddSimpleIndex();
        builder.AddJsonApi();
        builder.AddFiles();
        builder.AddCuratedIndexJobs();
        builder.Services.AddUpstreamWatch();
        builder.AddReleases();
        builder.AddProvenance();
        builder.AddClosures();
        builder.AddTelemetry(); // after the upstream and the store, which it measures

        // Binding failures throw so that BadRequestMiddleware can answer them with a reason.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddServerOptions();
        builder.Services.AddSingleton<DirectSendMetrics>();
        if (builder.Configuration.GetValue(ServerOptions.Section + ":" + nameof(ServerOptions.DirectSend), true))
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(DirectSend.Install));
        }

        if (InlineScheduling(builder.Configuration))
        {
            // Kestrel runs a request where its bytes arrived; whether that is a socket thread is the serve command's choice
            // (SocketThreads.EnableInlineCompletions). Without it, as in tests, this only saves Kestrel's own hand-over.
            builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        var app = builder.Build();

        // Large rendered documents live in nameless files here (Hosting/DocumentFile.cs).
        DocumentFile.UseDirectory(Path.Combine(app.Services.GetRequiredService<IOptions<CacheOptions>>().Value.DirectoryUnder(app.Environment.ContentRootPath), "documents"));

        // Middleware order matters: off the socket thread first unless an index read (with Server:InlineScheduling); then
        // security headers so every answer carries them; refuse hostile paths before anything reads them.
        if (InlineScheduling(app.Configuration))
        {
            app.UseMiddleware<SocketThreads.LeaveMiddleware>();
        }

        app.UseMiddleware<ResponseSecurityHeaders>();
        app.UseMiddleware<PathGuardMiddleware>();
        app.UseMiddleware<BadRequestMiddleware>();
        app.UseMiddleware<DatabaseUnavailableMiddleware>();
        app.UseForwardedHeaders();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapTelemetry(); // /healthz, /readyz
        app.MapSimpleIndex();
        app.MapFiles();
        app.MapJsonApi();
        var api = app.MapGroup("/api/v1");
        api.MapReviewApi();
        api.MapExplainApi();
        api.MapReleasesApi();
        api.MapClosureApi();
        api.MapPublishersApi();
        api.MapAuditApi();
        api.MapAccountsApi();
        app.MapCuratedIndexJobs();
        app.MapReviewUi();
        app.MapUpstream();
        return app;
    }

    /// <summary>
    /// <c>Server:InlineScheduling</c> (default true), with SQLite only: with PostgreSQL, Npgsql's reads would complete on
    /// the socket threads and the code after every database call would go on there (<see cref="SocketThreads"/>).
    /// </summary>
    public static bool InlineScheduling(IConfiguration configuration) =>
        configuration.GetValue(ServerOptions.Section + ":" + nameof(ServerOptions.InlineScheduling), true)
        && configuration.GetValue(DatabaseOptions.Section + ":" + nameof(DatabaseOptions.Provider), DatabaseProvider.Sqlite) == DatabaseProvider.Sqlite;

    /// <summary>Loads policies and applies migrations where configured; a bad policy file stops here with its file, line and problem.</summary>
    public static async Task PrepareAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var policy = app.Services.GetRequiredService<PolicyStore>().Load();
        TyposquatRegistration.RequireCorpusWhereBlocking(app.Services, policy, app.Environment.ContentRootPath);
        // The trusted root is read now: a missing or unusable one stops the start with the reason.
        app.Services.GetRequiredService<TrustedRootSource>();
        var database = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (database.MigrateOnStartup ?? database.Provider == DatabaseProvider.Sqlite)
        {
            await DataRegistration.MigrateAsync(app.Services, cancellationToken);
            HostingLog.Migrated(app.Logger, database.Provider.ToString());
        }

        await app.Services.GetRequiredService<CurationStore>().RefreshAsync(cancellationToken);
        await PolicyAudit.RecordIfChangedAsync(app.Services, cancellationToken);
    }
}
