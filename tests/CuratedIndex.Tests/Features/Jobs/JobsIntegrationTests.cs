using System.Collections.Concurrent;
using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Hangfire;
using Hangfire.Storage;
using Npgsql;

namespace CuratedIndex.Tests.Features.Jobs;

/// <summary>Hangfire beside the app's database, job-run bookkeeping, durable enqueued work and the artifact scrubbing job; once on SQLite, once on PostgreSQL.</summary>
public abstract class JobsIntegrationTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    protected abstract DatabaseProvider Provider { get; }

    private Task<ProxyInstance> StartProxyAsync(FakePyPI upstream, TestClock? clock = null, IDictionary<string, string>? settings = null) =>
        ProxyInstance.StartAsync(
            upstream.BaseUrl,
            Provider,
            ManualJobs.Settings(settings),
            configure: b =>
            {
                if (clock is not null)
                {
                    b.Services.AddSingleton<TimeProvider>(clock);
                }

                b.Services.AddCuratedIndexJob<FailingJob>("Failing", "Always fails.", "manual");
                b.Services.AddQueuedWork<MarkerWork>();
            });

    /// <summary>Runs <paramref name="job"/> now ("Run now": through Hangfire's queue) and waits for its run to be recorded as finished.</summary>
    internal static async Task<JobRun> RunAsync(ProxyInstance proxy, string job)
    {
        var before = await proxy.QueryAsync(db => db.JobRuns.Select(r => (long?)r.Id).MaxAsync()) ?? 0;
        var (outcome, _) = await proxy.Services.GetRequiredService<JobTrigger>().TriggerAsync(job, "test", "a test", CancellationToken.None);
        Assert.Equal(TriggerOutcome.Triggered, outcome);
        return await WaitForRunAsync(proxy, job, before);
    }

    /// <summary>The first finished run of <paramref name="job"/> after run id <paramref name="after"/> (with <paramref name="status"/>, when given).</summary>
    internal static async Task<JobRun> WaitForRunAsync(ProxyInstance proxy, string job, long after, string? status = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var run = await proxy.QueryAsync(db => db.JobRuns.AsNoTracking()
                .Where(r => r.JobKey == job && r.Id > after && r.Status != JobRunState.Running && (status == null || r.Status == status))
                .OrderBy(r => r.Id).FirstOrDefaultAsync());
            if (run is not null)
            {
                return run;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"job {job} did not finish");
    }

    [Fact]
    public async Task JobsPage_Admin_SeesJobsAndRunsOneNow()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, Provider, ManualJobs.Settings(new Dictionary<string, string> { ["Jobs:Scrub:Schedule"] = "0 3 * * *" }));
        using var session = await UiSession.SignedInAsync(proxy, "ada", Roles.Admin);

        var (page, document, _) = await session.GetAsync("ui/jobs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var row = document.QuerySelector("tr[data-job=Scrub]")!;
        Assert.Contains("cron 0 3 * * * (UTC)", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("never", row.QuerySelector(".last-run")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(" 03:00:00 UTC", row.QuerySelector(".next-run")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(document.QuerySelector("#nav-jobs"));

        using var posted = await session.SubmitAsync("ui/jobs", "#run-Scrub");
        var (_, after, _) = (posted, await UiSession.ParseAsync(await posted.Content.ReadAsStringAsync()), 0);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Contains("triggered", after.QuerySelector("#jobs-message")!.TextContent, StringComparison.Ordinal);
        var run = await WaitForRunAsync(proxy, "Scrub", 0);
        Assert.Equal("manual:ada", run.StartedBy);
        Assert.Equal(JobRunState.Succeeded, run.Status);
        var (_, shown, _) = await session.GetAsync("ui/jobs");
        Assert.Contains("succeeded", shown.QuerySelector("tr[data-job=Scrub] .last-run")!.TextContent, StringComparison.Ordinal);
        var audit = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().SingleAsync(r => r.Action == "job.trigger"));
        Assert.Equal(("ada", "job:Scrub"), (audit.Actor, audit.Subject));
        Assert.StartsWith("run now from /ui/jobs (run ", audit.Reason, StringComparison.Ordinal);
        Assert.Contains(" 03:00:00 UTC", shown.QuerySelector("tr[data-job=Scrub] .next-run")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(shown.QuerySelector("#dashboard-link"));
    }

    [Fact]
    public async Task JobsApi_AdminRunsAJob_AuditedAndRecorded_UnknownKeyIs404()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, Provider, ApiTestKit.Settings(ManualJobs.Settings()));
        var token = await proxy.CreateUserWithTokenAsync("ops", Roles.Admin);

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/jobs/Scrub/run");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await proxy.Client.SendAsync(request);
        using var unknownRequest = new HttpRequestMessage(HttpMethod.Post, "api/v1/jobs/NoSuchJob/run");
        unknownRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var unknown = await proxy.Client.SendAsync(unknownRequest);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Scrub", System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["job"]!.GetValue<string>());
        var run = await WaitForRunAsync(proxy, "Scrub", 0);
        Assert.Equal(("manual:ops", JobRunState.Succeeded), (run.StartedBy, run.Status));
        var audit = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().SingleAsync(r => r.Action == "job.trigger"));
        Assert.Equal(("ops", "job:Scrub"), (audit.Actor, audit.Subject));
        Assert.StartsWith("run now from POST /api/v1/jobs/{key}/run (run ", audit.Reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("there is no job 'NoSuchJob'", System.Text.Json.Nodes.JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());
        Assert.Equal(1, await proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action == "job.trigger")));
    }

    [Fact]
    public async Task Dashboard_AdminSessionOnly_WithItsOwnScriptPolicy()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, Provider, ApiTestKit.Settings(ManualJobs.Settings()));
        using var admin = await UiSession.SignedInAsync(proxy, "ada", Roles.Admin);
        using var viewer = await UiSession.SignedInAsync(proxy, "vic", Roles.Viewer);
        using var reviewer = await UiSession.SignedInAsync(proxy, "rev", Roles.Reviewer);
        using var anonymous = new UiSession(proxy.BaseUrl);

        var (page, document, html) = await admin.GetAsync("ui/jobs/dashboard");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("CuratedIndex jobs", html, StringComparison.Ordinal);
        Assert.Equal(JobsEndpoints.DashboardContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        // The policy allows scripts from the dashboard's path only: every script the page has is a file.
        Assert.NotEmpty(document.QuerySelectorAll("script"));
        Assert.All(document.QuerySelectorAll("script"), s => Assert.True(s.HasAttribute("src") && s.TextContent.Trim().Length == 0, s.OuterHtml));
        using var script = await admin.Client.GetAsync(new Uri(proxy.BaseUrl, document.QuerySelector("script")!.GetAttribute("src")!));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        var (recurring, _, _) = await admin.GetAsync("ui/jobs/dashboard/recurring");
        Assert.Equal(HttpStatusCode.OK, recurring.StatusCode);
        // Read-only: no trigger or delete buttons; runs start through the audited paths.
        Assert.DoesNotContain("js-jobs-list-command", html, StringComparison.Ordinal);

        foreach (var (session, refusal) in new[] { (viewer, "/ui/denied"), (reviewer, "/ui/denied"), (anonymous, "/ui/login") })
        {
            foreach (var path in new[] { "ui/jobs/dashboard", "ui/jobs/dashboard/jobs/failed", "ui/jobs/dashboard/servers" })
            {
                using var refused = await session.Client.GetAsync(path);
                Assert.True(refused.StatusCode == HttpStatusCode.Redirect, $"{path}: {(int)refused.StatusCode}");
                Assert.StartsWith(refusal, refused.Headers.Location!.AbsolutePath.Length > 0 && refused.Headers.Location.IsAbsoluteUri ? refused.Headers.Location.AbsolutePath : refused.Headers.Location.OriginalString, StringComparison.Ordinal);
            }
        }

        // An admin's API token is not a UI session: the dashboard wants the UI's sign-in.
        var token = await proxy.CreateUserWithTokenAsync("ops", Roles.Admin);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "ui/jobs/dashboard");
        bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var withToken = await proxy.Client.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.Redirect, withToken.StatusCode);
        Assert.Contains("/ui/login", withToken.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    private static string StoredPath(ProxyInstance proxy, string sha256, string filename) =>
        Path.Combine(proxy.Root, "data", "artifacts", "files", sha256[..2], sha256, filename);

    private static async Task StoreSixAsync(ProxyInstance proxy)
    {
        using var response = await proxy.Client.GetAsync($"dev/files/six/{Six}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Scrub_CorruptedStoredFile_RecordsIncidentAndRefetchesVerifiedBytes()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var clock = new TestClock(Start);
        await using var proxy = await StartProxyAsync(upstream, clock);
        await StoreSixAsync(proxy);
        var good = upstream.File(Six);
        var path = StoredPath(proxy, good.Sha256, Six);
        var corrupted = good.Content.ToArray();
        corrupted[100] ^= 0xff;
        await File.WriteAllBytesAsync(path, corrupted);

        var run = await RunAsync(proxy, "Scrub");

        Assert.Equal(JobRunState.Succeeded, run.Status);
        Assert.Equal("0 verified, 1 mismatched, 1 re-fetched", run.Message);
        Assert.Equal(Start.UtcDateTime, run.StartedAt);
        Assert.Equal(1.0, run.Progress);
        var incident = await proxy.QueryAsync(db => db.Incidents.SingleAsync(i => i.Kind == IncidentKind.ScrubMismatch));
        Assert.Equal(Six, incident.Filename);
        Assert.Contains("re-fetched from upstream and verified", incident.Detail, StringComparison.Ordinal);
        Assert.Equal(good.Content, await File.ReadAllBytesAsync(path));
        var artifact = await proxy.QueryAsync(db => db.StoredArtifacts.SingleAsync(a => a.Filename == Six));
        Assert.Equal(Start.UtcDateTime, artifact.VerifiedAt);
        using var served = await proxy.Client.GetAsync($"dev/files/six/{Six}");
        Assert.Equal(good.Content, await served.Content.ReadAsByteArrayAsync());

        // Idempotent: a second run soon after has nothing due; one after ReverifyAfter only verifies.
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("0 verified, 0 mismatched, 0 re-fetched", (await RunAsync(proxy, "Scrub")).Message);
        clock.Advance(TimeSpan.FromDays(8));
        Assert.Equal("1 verified, 0 mismatched, 0 re-fetched", (await RunAsync(proxy, "Scrub")).Message);
        Assert.Equal(1, await proxy.QueryAsync(db => db.Incidents.CountAsync(i => i.Kind == IncidentKind.ScrubMismatch)));
    }

    [Fact]
    public async Task Scrub_UpstreamNoLongerHasTheBytes_RemovesFileAndSaysItIsMissing()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await StartProxyAsync(upstream, new TestClock(Start));
        await StoreSixAsync(proxy);
        var good = upstream.File(Six);
        var path = StoredPath(proxy, good.Sha256, Six);
        await File.WriteAllBytesAsync(path, [1, 2, 3]);
        good.ServedContent = [4, 5, 6];

        var run = await RunAsync(proxy, "Scrub");

        Assert.Equal(JobRunState.Succeeded, run.Status);
        Assert.Equal("0 verified, 1 mismatched, 0 re-fetched", run.Message);
        var incident = await proxy.QueryAsync(db => db.Incidents.SingleAsync(i => i.Kind == IncidentKind.ScrubMismatch));
        Assert.Contains("left missing", incident.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.False(await proxy.QueryAsync(db => db.StoredArtifacts.AnyAsync(a => a.Filename == Six)));
    }

    [Fact]
    public async Task JobRun_JobThrows_RecordedAsFailedAndSchedulerKeepsRunning()
    {
        await using var upstream = await FakePyPI.StartAsync();
        var clock = new TestClock(Start);
        await using var proxy = await StartProxyAsync(upstream, clock);

        var failed = await RunAsync(proxy, "Failing");
        clock.Advance(TimeSpan.FromMinutes(5));
        var succeeded = await RunAsync(proxy, "Scrub");

        Assert.Equal(JobRunState.Failed, failed.Status);
        Assert.Contains("boom", failed.Message, StringComparison.Ordinal);
        Assert.Equal(Start.UtcDateTime, failed.StartedAt);
        Assert.Equal(Start.UtcDateTime, failed.FinishedAt);
        Assert.Equal(JobRunState.Succeeded, succeeded.Status);
        Assert.Equal(Start.AddMinutes(5).UtcDateTime, succeeded.StartedAt);
        Assert.Equal("manual:test", succeeded.StartedBy);
    }

    [Fact]
    public async Task RecurringJob_ProxyRestartsOnSameStorage_NextExecutionSurvivesUnchanged()
    {
        await using var upstream = await FakePyPI.StartAsync();
        var (connectionString, cleanup) = await OwnDatabaseAsync();
        try
        {
            var settings = new Dictionary<string, string> { ["ConnectionStrings:CuratedIndex"] = connectionString, ["Jobs:Scrub:Schedule"] = "0 3 * * *" };
            DateTime? firstNext;
            await using (var first = await StartProxyAsync(upstream, settings: settings))
            {
                firstNext = NextExecution(first, "Scrub");
                Assert.Null(NextExecution(first, "UpstreamWatch"));
            }

            await using var second = await StartProxyAsync(upstream, settings: settings);
            var secondNext = NextExecution(second, "Scrub");

            Assert.NotNull(firstNext);
            Assert.Equal(3, firstNext!.Value.Hour);
            Assert.Equal(0, firstNext.Value.Minute);
            Assert.InRange(firstNext.Value, DateTime.UtcNow, DateTime.UtcNow.AddHours(24));
            Assert.Equal(firstNext, secondNext);
        }
        finally
        {
            await cleanup();
        }
    }

    [Fact]
    public async Task QueuedWork_HostStoppedMidRun_CompletesOnceAfterRestartOnTheSameStorage()
    {
        await using var upstream = await FakePyPI.StartAsync();
        var (connectionString, cleanup) = await OwnDatabaseAsync();
        var effects = Directory.CreateTempSubdirectory("curated-index-work-").FullName;
        var args = new MarkerWork.Args(effects, $"release-{Guid.NewGuid():N}");
        var firstAttempt = MarkerWork.BlockFirstAttempt(args.Marker);
        try
        {
            var settings = new Dictionary<string, string> { ["ConnectionStrings:CuratedIndex"] = connectionString };
            await using (var first = await StartProxyAsync(upstream, settings: settings))
            {
                first.Services.GetRequiredService<IWorkQueue>().Enqueue<MarkerWork, MarkerWork.Args>(args);
                await firstAttempt.WaitAsync(TimeSpan.FromSeconds(60));

                // Stopped while the work is running: Hangfire cancels it and leaves it in the storage.
            }

            Assert.False(File.Exists(MarkerWork.EffectPath(args)));
            await using var second = await StartProxyAsync(upstream, settings: settings);
            var run = await WaitForRunAsync(second, JobDispatcher.WorkKey(typeof(MarkerWork)), 0, JobRunState.Succeeded);

            Assert.Equal("applied", run.Message);
            Assert.Equal([args.Marker], await File.ReadAllLinesAsync(MarkerWork.EffectPath(args)));
            var runs = await second.QueryAsync(db => db.JobRuns.AsNoTracking().Where(r => r.JobKey == run.JobKey).OrderBy(r => r.Id).ToListAsync());
            Assert.Equal([JobRunState.Failed, JobRunState.Succeeded], runs.Select(r => r.Status));
            Assert.Contains("interrupted by a shutdown", runs[0].Message, StringComparison.Ordinal);
        }
        finally
        {
            await cleanup();
            Directory.Delete(effects, recursive: true);
        }
    }

    [Fact]
    public async Task QueuedWork_RefusedForGood_ShowsOnTheJobsPageWithoutRetries()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var effects = Directory.CreateTempSubdirectory("curated-index-work-").FullName;
        try
        {
            var id = proxy.Services.GetRequiredService<IWorkQueue>().Enqueue<MarkerWork, MarkerWork.Args>(new MarkerWork.Args(effects, MarkerWork.Refused));

            var run = await WaitForRunAsync(proxy, JobDispatcher.WorkKey(typeof(MarkerWork)), 0);
            Assert.Equal(JobRunState.Failed, run.Status);
            var storage = proxy.Services.GetRequiredService<JobStorage>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (storage.GetMonitoringApi().JobDetails(id).History.FirstOrDefault()?.StateName != "Failed" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            using var session = await UiSession.SignedInAsync(proxy, "vic", Roles.Viewer);
            var (_, page, _) = await session.GetAsync("ui/jobs");
            var row = page.QuerySelector("#failed-work tr[data-work=MarkerWork]");
            Assert.NotNull(row);
            Assert.Contains("no point in trying again", row!.TextContent, StringComparison.Ordinal);
            Assert.Contains(id, row.TextContent, StringComparison.Ordinal);
            Assert.Equal(1, await proxy.QueryAsync(db => db.JobRuns.CountAsync(r => r.JobKey == run.JobKey)));
        }
        finally
        {
            Directory.Delete(effects, recursive: true);
        }
    }

    [Fact]
    public async Task QueuedWork_TransientFailure_RetriedByHangfireAndApplied()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var effects = Directory.CreateTempSubdirectory("curated-index-work-").FullName;
        try
        {
            var args = new MarkerWork.Args(effects, $"{MarkerWork.FailOnce}-{Guid.NewGuid():N}");
            proxy.Services.GetRequiredService<IWorkQueue>().Enqueue<MarkerWork, MarkerWork.Args>(args);

            var run = await WaitForRunAsync(proxy, JobDispatcher.WorkKey(typeof(MarkerWork)), 0, JobRunState.Succeeded);

            var runs = await proxy.QueryAsync(db => db.JobRuns.AsNoTracking().Where(r => r.JobKey == run.JobKey).OrderBy(r => r.Id).ToListAsync());
            Assert.Equal([JobRunState.Failed, JobRunState.Succeeded], runs.Select(r => r.Status));
            Assert.Contains("upstream hiccup", runs[0].Message, StringComparison.Ordinal);
            Assert.Equal([args.Marker], await File.ReadAllLinesAsync(MarkerWork.EffectPath(args)));
        }
        finally
        {
            Directory.Delete(effects, recursive: true);
        }
    }

    [Fact]
    public async Task Migration_DatabaseOfThePreviousVersion_DropsTheOldJobStoreTables_AndAnEmptyOneMigratesToo()
    {
        var (connectionString, cleanup) = await OwnDatabaseAsync();
        var (emptyConnectionString, cleanupEmpty) = await OwnDatabaseAsync();
        try
        {
            await using (var previous = Context(connectionString))
            {
                // The previous version's schema: every migration up to Typosquat, plus the old job store's tables it created.
                await previous.Database.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>().MigrateAsync("20261122000005_Typosquat");
                await previous.Database.ExecuteSqlRawAsync("CREATE TABLE qrtz_job_details (sched_name varchar(120) NOT NULL, job_name varchar(200) NOT NULL, PRIMARY KEY (sched_name, job_name))");
                await previous.Database.ExecuteSqlRawAsync(
                    "CREATE TABLE qrtz_triggers (sched_name varchar(120) NOT NULL, trigger_name varchar(200) NOT NULL, job_name varchar(200) NOT NULL, PRIMARY KEY (sched_name, trigger_name), " +
                    "FOREIGN KEY (sched_name, job_name) REFERENCES qrtz_job_details (sched_name, job_name))");
                await previous.Database.ExecuteSqlRawAsync("CREATE TABLE qrtz_locks (sched_name varchar(120) NOT NULL, lock_name varchar(40) NOT NULL, PRIMARY KEY (sched_name, lock_name))");
                await previous.Database.ExecuteSqlRawAsync("INSERT INTO qrtz_job_details VALUES ('curated-index', 'Scrub')");
                await previous.Database.ExecuteSqlRawAsync("INSERT INTO qrtz_triggers VALUES ('curated-index', 'Scrub-schedule', 'Scrub')");
            }

            await using (var current = Context(connectionString))
            {
                await current.Database.MigrateAsync();
                Assert.Empty(await TablesAsync(current, "qrtz_%"));
                Assert.Contains("20261204000001_HangfireJobs", await current.Database.GetAppliedMigrationsAsync());
            }

            await using var empty = Context(emptyConnectionString);
            await empty.Database.MigrateAsync();
            Assert.Empty(await TablesAsync(empty, "qrtz_%"));
            Assert.Single(await TablesAsync(empty, "job_runs"));
        }
        finally
        {
            await cleanup();
            await cleanupEmpty();
        }
    }

    private CuratedIndexDbContext Context(string connectionString) => Provider == DatabaseProvider.Sqlite
        ? new SqliteCuratedIndexDbContext(new DbContextOptionsBuilder<SqliteCuratedIndexDbContext>().UseSqlite(connectionString)
            .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning)).Options)
        : new PostgresCuratedIndexDbContext(new DbContextOptionsBuilder<PostgresCuratedIndexDbContext>().UseNpgsql(connectionString)
            .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning)).Options);

    private async Task<List<string>> TablesAsync(CuratedIndexDbContext db, string like) => Provider == DatabaseProvider.Sqlite
        ? await db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name LIKE {0}", like).ToListAsync()
        : await db.Database.SqlQueryRaw<string>("SELECT table_name AS \"Value\" FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE {0}", like).ToListAsync();

    private static DateTime? NextExecution(ProxyInstance proxy, string key)
    {
        using var connection = proxy.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs([key]).SingleOrDefault(r => !r.Removed)?.NextExecution;
    }

    private async Task<(string ConnectionString, Func<Task> Cleanup)> OwnDatabaseAsync()
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            var directory = Directory.CreateTempSubdirectory("curated-index-jobs-").FullName;
            return ($"Data Source={Path.Combine(directory, "shared.db")}", () =>
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(directory, recursive: true);
                return Task.CompletedTask;
            });
        }

        var name = $"ci_jobs_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(ProxyInstance.PostgresAdminConnection()))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = new NpgsqlConnectionStringBuilder(ProxyInstance.PostgresAdminConnection()) { Database = name, Pooling = false }.ConnectionString;
        return (connectionString, async () =>
        {
            await using var connection = new NpgsqlConnection(ProxyInstance.PostgresAdminConnection());
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        });
    }

    internal sealed class FailingJob : IScheduledJob
    {
        public Task RunAsync(JobRunContext context, CancellationToken cancellationToken) => throw new InvalidOperationException("boom");
    }

    /// <summary>
    /// Enqueued work whose effect is a line in a file, applied once: idempotent as work must be (it checks before it
    /// writes). Markers steer it: one registered with <see cref="BlockFirstAttempt"/> blocks its first attempt until the host
    /// stops; <see cref="FailOnce"/> fails its first attempt; <see cref="Refused"/> refuses for good.
    /// </summary>
    internal sealed class MarkerWork : IQueuedWork<MarkerWork.Args>
    {
        public const string Refused = "refused";
        public const string FailOnce = "fail-once";

        private static readonly ConcurrentDictionary<string, TaskCompletionSource> Blocked = new(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, bool> Failed = new(StringComparer.Ordinal);

        public sealed record Args(string Directory, string Marker);

        public static string EffectPath(Args args) => Path.Combine(args.Directory, args.Marker + ".applied");

        public static Task BlockFirstAttempt(string marker) => Blocked.GetOrAdd(marker, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public async Task RunAsync(Args args, JobRunContext context, CancellationToken cancellationToken)
        {
            if (Blocked.TryRemove(args.Marker, out var started))
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (args.Marker == Refused)
            {
                throw new WorkRefusedException("no point in trying again");
            }

            if (args.Marker.StartsWith(FailOnce, StringComparison.Ordinal) && Failed.TryAdd(args.Marker, true))
            {
                throw new IOException("upstream hiccup");
            }

            var effect = EffectPath(args);
            if (!File.Exists(effect))
            {
                await File.AppendAllLinesAsync(effect, [args.Marker], CancellationToken.None);
            }

            JobRunRecorder.SetResult(context, "applied");
        }
    }
}

public sealed class JobsIntegrationTestsOnSqlite : JobsIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    [Fact]
    public async Task JobsPage_NoServerOnTheNode_ListsTheJobs_AndRunNowAnswers409WithoutAnAuditRecord()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: ApiTestKit.Settings());
        using var session = await UiSession.SignedInAsync(proxy, "ada", Roles.Admin);

        var (page, document, _) = await session.GetAsync("ui/jobs");
        using var posted = await session.SubmitAsync("ui/jobs", "#run-Scrub");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/jobs/Scrub/run");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiTestKit.BootstrapToken);
        using var api = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(["AutoVetting", "Closures", "PolicyVetting", "Scrub", "UpstreamNames", "UpstreamWatch"], document.QuerySelectorAll("tr[data-job]").Select(r => r.GetAttribute("data-job")!));
        Assert.NotNull(document.QuerySelector("#scheduler-off"));
        Assert.Equal(HttpStatusCode.Conflict, posted.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, api.StatusCode);
        Assert.Contains("Jobs:Enabled is false", await api.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await proxy.QueryAsync(db => db.AuditRecords.AnyAsync(r => r.Action == "job.trigger")));
        Assert.False(await proxy.QueryAsync(db => db.JobRuns.AnyAsync()));
    }

    [Fact]
    public async Task JobsPage_Viewer_SeesJobsButCannotRunOne()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Jobs:Enabled"] = "true", ["Jobs:Scrub:Schedule"] = "manual" });
        using var session = await UiSession.SignedInAsync(proxy, "vic", Roles.Reviewer);

        var (page, document, _) = await session.GetAsync("ui/jobs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.NotNull(document.QuerySelector("tr[data-job=Scrub]"));
        Assert.Null(document.QuerySelector("#run-Scrub"));

        var token = await session.TokenFromAsync("ui/jobs");
        using var posted = await session.PostAsync("ui/jobs?handler=Run", [new("__RequestVerificationToken", token), new("job", "Scrub")]);

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.StartsWith("/ui/denied", posted.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        await Task.Delay(500);
        Assert.False(await proxy.QueryAsync(db => db.JobRuns.AnyAsync()));
    }
}

public sealed class JobsIntegrationTestsOnPostgres : JobsIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
