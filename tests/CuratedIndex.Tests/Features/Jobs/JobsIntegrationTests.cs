using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quartz;

namespace CuratedIndex.Tests.Features.Jobs;

/// <summary>Quartz on the app's database, job-run bookkeeping and the artifact scrubbing job; once on SQLite, once on PostgreSQL.</summary>
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
            });

    /// <summary>Triggers <paramref name="job"/> through Quartz and waits for its run to be recorded as finished.</summary>
    internal static async Task<JobRun> RunAsync(ProxyInstance proxy, string job)
    {
        var before = await proxy.QueryAsync(db => db.JobRuns.Select(r => (long?)r.Id).MaxAsync()) ?? 0;
        var scheduler = await proxy.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.TriggerJob(new JobKey(job, JobCatalog.Group));
        return await WaitForRunAsync(proxy, job, before);
    }

    internal static async Task<JobRun> WaitForRunAsync(ProxyInstance proxy, string job, long after)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var run = await proxy.QueryAsync(db => db.JobRuns.AsNoTracking().Where(r => r.JobKey == job && r.Id > after && r.Status != JobRunState.Running).OrderBy(r => r.Id).FirstOrDefaultAsync());
            if (run is not null)
            {
                return run;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"job {job} did not finish");
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
        Assert.Equal("schedule", succeeded.StartedBy);
    }

    [Fact]
    public async Task ScheduledTrigger_ProxyRestartsOnSameDatabase_TriggerSurvivesUnchanged()
    {
        await using var upstream = await FakePyPI.StartAsync();
        var (connectionString, cleanup) = await OwnDatabaseAsync();
        try
        {
            var settings = new Dictionary<string, string> { ["ConnectionStrings:CuratedIndex"] = connectionString, ["Jobs:Scrub:Schedule"] = "1.00:00:00" };
            DateTimeOffset? firstNext;
            await using (var first = await StartProxyAsync(upstream, settings: settings))
            {
                firstNext = await NextFireAsync(first);
            }

            await using var second = await StartProxyAsync(upstream, settings: settings);
            var secondNext = await NextFireAsync(second);

            Assert.NotNull(firstNext);
            Assert.InRange(firstNext!.Value, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
            Assert.Equal(firstNext, secondNext);
        }
        finally
        {
            await cleanup();
        }
    }

    private static async Task<DateTimeOffset?> NextFireAsync(ProxyInstance proxy)
    {
        var scheduler = await proxy.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var trigger = await scheduler.GetTrigger(new TriggerKey("Scrub-schedule", JobCatalog.Group));
        return trigger?.NextFireTimeUtc;
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

    [DisallowConcurrentExecution]
    internal sealed class FailingJob : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("boom");
    }
}

public sealed class JobsIntegrationTestsOnSqlite : JobsIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    [Fact]
    public async Task JobsPage_Admin_SeesJobsAndRunsOneNow()
    {
        await using var upstream = await FakePyPI.StartAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Jobs:Enabled"] = "true", ["Jobs:Scrub:Schedule"] = "0 0 3 * * ?" });
        using var session = await UiSession.SignedInAsync(proxy, "ada", Roles.Admin);

        var (page, document, _) = await session.GetAsync("ui/jobs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var row = document.QuerySelector("tr[data-job=Scrub]")!;
        Assert.Contains("cron 0 0 3 * * ?", row.TextContent, StringComparison.Ordinal);
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
