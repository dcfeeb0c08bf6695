using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CuratedIndex.Tests.ScaleOut;

/// <summary>Hangfire on PostgreSQL with a server in each of two node processes.</summary>
public sealed class JobsAcrossNodesTests
{
    private static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromSeconds(10);

    private static Dictionary<string, string> JobSettings(IDictionary<string, string>? more = null)
    {
        var settings = ManualJobs.Settings(more);
        settings["Jobs:InvisibilityTimeout"] = InvisibilityTimeout.ToString("c");
        return settings;
    }

    private static async Task<List<JobRun>> RunsAsync(string connection, string jobKey)
    {
        await using var db = NodeProcess.Database(connection);
        return await db.JobRuns.AsNoTracking().Where(r => r.JobKey == jobKey).OrderBy(r => r.Id).ToListAsync();
    }

    private static async Task<List<JobRun>> WaitForRunsAsync(string connection, string jobKey, Func<List<JobRun>, bool> done, TimeSpan bound)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            var runs = await RunsAsync(connection, jobKey);
            if (done(runs))
            {
                return runs;
            }

            Assert.True(DateTime.UtcNow - started < bound, $"job_runs of {jobKey} after {bound.TotalSeconds} s: {string.Join("; ", runs.Select(r => $"{r.Node} {r.StartedBy} {r.Status} {r.Message}"))}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task NodeKilledDuringAJob_ItsJobIsRunByTheOtherNodeAfterTheInvisibilityTimeout()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        // The first request for the project list (the UpstreamNames job's) hangs: the job is mid-run when its node dies.
        var hanging = new TaskCompletionSource();
        upstream.Override["/simple/"] = async context =>
        {
            upstream.Override.TryRemove("/simple/", out _);
            hanging.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
        };
        var database = await ProxyInstance.CreatePostgresDatabaseAsync();
        var connection = ProxyInstance.PostgresConnection(database);
        try
        {
            await using var first = await NodeProcess.StartAsync(upstream.BaseUrl, connection, JobSettings());
            await using var second = await NodeProcess.StartAsync(upstream.BaseUrl, connection, JobSettings());
            using (var trigger = await first.Client.SendAsync(ApiTestKit.Request(HttpMethod.Post, $"api/v1/jobs/{UpstreamNamesJob.Key}/run", ApiTestKit.BootstrapToken)))
            {
                Assert.True(trigger.IsSuccessStatusCode, $"run now: {(int)trigger.StatusCode} {await trigger.Content.ReadAsStringAsync()}");
            }

            await hanging.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var running = Assert.Single(await WaitForRunsAsync(connection, UpstreamNamesJob.Key, runs => runs.Count == 1, TimeSpan.FromSeconds(30)));
            Assert.Equal(JobRunState.Running, running.Status);
            var (victim, survivor) = running.Node == first.NodeName ? (first, second) : (second, first);
            Assert.Equal(victim.NodeName, running.Node);

            victim.Kill();

            var runs = await WaitForRunsAsync(
                connection,
                UpstreamNamesJob.Key,
                runs => runs.Any(r => r.Node == survivor.NodeName && r.Status == JobRunState.Succeeded),
                InvisibilityTimeout + TimeSpan.FromSeconds(45));
            var rerun = runs.Single(r => r.Node == survivor.NodeName);
            Assert.Equal(JobRunState.Succeeded, rerun.Status);
            Assert.StartsWith("manual:", rerun.StartedBy, StringComparison.Ordinal);
            var abandoned = runs.Single(r => r.Id == running.Id);
            Assert.Equal(JobRunState.Failed, abandoned.Status);
            Assert.Equal($"its node stopped during the run; the job ran again on {survivor.NodeName}", abandoned.Message);
            Assert.Equal(2, runs.Count);
            using var health = await survivor.Client.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            await ProxyInstance.DropPostgresDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task RecurringJob_WithAServerOnEachNode_RunsOncePerOccurrence()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var database = await ProxyInstance.CreatePostgresDatabaseAsync();
        var connection = ProxyInstance.PostgresConnection(database);
        try
        {
            // Every minute: both nodes' schedulers see each occurrence come due.
            var settings = JobSettings(new Dictionary<string, string> { [$"Jobs:{PolicyVettingJob.Key}:Schedule"] = "* * * * *" });
            await using var first = await NodeProcess.StartAsync(upstream.BaseUrl, connection, settings);
            await using var second = await NodeProcess.StartAsync(upstream.BaseUrl, connection, settings);

            var runs = await WaitForRunsAsync(connection, PolicyVettingJob.Key, runs => runs.Any(r => r.Status == JobRunState.Succeeded), TimeSpan.FromSeconds(100));
            await Task.Delay(TimeSpan.FromSeconds(5)); // time for a duplicate of the same occurrence to show up
            runs = await RunsAsync(connection, PolicyVettingJob.Key);

            var firstOccurrence = runs[0].StartedAt;
            var sameMinute = runs.Where(r => r.StartedAt < firstOccurrence.AddSeconds(50)).ToList();
            var only = Assert.Single(sameMinute);
            Assert.Equal("schedule", only.StartedBy);
            Assert.Contains(only.Node, new[] { first.NodeName, second.NodeName });
        }
        finally
        {
            await ProxyInstance.DropPostgresDatabaseAsync(database);
        }
    }
}
