using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Tests.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.UpstreamWatch;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>The upstream watch (issue 4, part 6) against a fake PyPI, with a controllable clock; on SQLite and PostgreSQL.</summary>
public abstract class UpstreamWatchTests
{
    private const string Zipp36 = "zipp-3.6.0-py3-none-any.whl";
    private const string Zipp37 = "zipp-3.7.0-py3-none-any.whl";
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    protected abstract DatabaseProvider Provider { get; }

    private async Task<(TestServers Servers, ManualClock Clock)> StartAsync()
    {
        var clock = new ManualClock(Start);
        var servers = await TestServers.StartAsync(Provider, "approve: [zipp]\n", configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        return (servers, clock);
    }

    private static Task<WatchSummary> RunAsync(ProxyInstance proxy) =>
        proxy.Services.GetRequiredService<UpstreamWatcher>().RunOnceAsync(CancellationToken.None);

    private static Task<List<UpstreamFile>> FilesAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.UpstreamFiles.AsNoTracking().OrderBy(f => f.Filename).ToListAsync());

    [Fact]
    public async Task FirstRun_RecordsEveryFileOfApprovedProjects_AndALaterRunOnlyTheNewFile()
    {
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "widely used" });
        var seen = new List<(string Project, string Versions)>();
        proxy.Services.GetRequiredService<UpstreamWatcher>().NewReleasesSeen += (p, v) => seen.Add((p, string.Join(",", v)));

        var first = await RunAsync(proxy);
        var second = await RunAsync(proxy);

        Assert.Equal((2, 3, 0), (first.Projects, first.NewFiles, first.Failures));
        Assert.Equal((0, 0, 0, 0), (second.NewFiles, second.RemovedFiles, second.YankChanges, second.Alerts));
        var files = await FilesAsync(proxy);
        Assert.Equal([Six, Zipp36, Zipp37], files.Select(f => f.Filename));
        Assert.All(files, f => Assert.Equal(Start.UtcDateTime, f.FirstSeenAt));
        var zipp = files.Single(f => f.Filename == Zipp37);
        Assert.Equal(("zipp", "3.7.0", upstream.File(Zipp37).Sha256, "2024-01-02T03:04:05.123456Z", false, (DateTime?)null),
            (zipp.Project, zipp.Version, zipp.Sha256, zipp.UploadTime, zipp.Yanked, zipp.RemovedAt));
        var watched = await proxy.QueryAsync(db => db.WatchedProjects.AsNoTracking().OrderBy(w => w.Project).ToListAsync());
        Assert.Equal(["six", "zipp"], watched.Select(w => w.Project));
        Assert.All(watched, w => Assert.Equal(("active", upstream.Serial), (w.Status, w.LastSerial)));
        Assert.All(watched, w => Assert.False(string.IsNullOrEmpty(w.ETag)));
        Assert.Equal([("six", "1.17.0"), ("zipp", "3.6.0,3.7.0")], seen);

        clock.Advance(TimeSpan.FromHours(1));
        upstream.Serial++;
        upstream.AddFile("zipp", "zipp-3.8.0-py3-none-any.whl", upstream.File(Zipp37).Content, "2026-11-22T08:30:00.000000Z");
        var third = await RunAsync(proxy);

        Assert.Equal(1, third.NewFiles);
        var added = Assert.Single(await proxy.QueryAsync(db => db.UpstreamFiles.AsNoTracking().Where(f => f.FirstSeenAt > Start.UtcDateTime).ToListAsync()));
        Assert.Equal(("zipp-3.8.0-py3-none-any.whl", "3.8.0", Start.AddHours(1).UtcDateTime, "2026-11-22T08:30:00.000000Z"), (added.Filename, added.Version, added.FirstSeenAt, added.UploadTime));
        Assert.Equal(4, (await FilesAsync(proxy)).Count);
        Assert.Equal(upstream.Serial, (await proxy.QueryAsync(db => db.WatchedProjects.SingleAsync(w => w.Project == "zipp"))).LastSerial);
        Assert.Equal(("zipp", "3.8.0"), seen[^1]);
    }

    [Fact]
    public async Task RemovedAndYankedFiles_AreMarked_Once()
    {
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await RunAsync(proxy);

        clock.Advance(TimeSpan.FromMinutes(30));
        upstream.RemoveFromPage(Zipp36);
        upstream.File(Zipp37).YankedReason = "broken metadata";
        var run = await RunAsync(proxy);
        var again = await RunAsync(proxy);

        Assert.Equal((0, 1, 1), (run.NewFiles, run.RemovedFiles, run.YankChanges));
        Assert.Equal((0, 0, 0), (again.NewFiles, again.RemovedFiles, again.YankChanges));
        var files = await FilesAsync(proxy);
        Assert.Equal(2, files.Count);
        Assert.Equal(Start.AddMinutes(30).UtcDateTime, files.Single(f => f.Filename == Zipp36).RemovedAt);
        var yanked = files.Single(f => f.Filename == Zipp37);
        Assert.Equal((true, (DateTime?)null), (yanked.Yanked, yanked.RemovedAt));

        upstream.File(Zipp37).YankedReason = null;
        Assert.Equal(1, (await RunAsync(proxy)).YankChanges);
        Assert.False((await FilesAsync(proxy)).Single(f => f.Filename == Zipp37).Yanked);
    }

    [Fact]
    public async Task QuarantinedUpstream_HidesTheProjectAtOnce_AndRaisesOneAlert()
    {
        var (servers, _) = await StartAsync();
        await using var __ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await RunAsync(proxy);
        // Both tiers have the page cached and fresh (the clock does not move: PageMaxAge never passes).
        var (_, devBefore) = await ReviewIntegrationTests.PageAsync(proxy, "dev/simple/zipp/");
        var (_, ciBefore) = await ReviewIntegrationTests.PageAsync(proxy, "ci/simple/zipp/");
        Assert.Equal(2, devBefore["files"]!.AsArray().Count);
        Assert.Equal(2, ciBefore["files"]!.AsArray().Count);

        upstream.ProjectStatus["zipp"] = "quarantined";
        upstream.Serial++;
        var run = await RunAsync(proxy);
        var again = await RunAsync(proxy);

        Assert.Equal((1, 0), (run.Alerts, again.Alerts));
        foreach (var path in new[] { "dev/simple/zipp/", "ci/simple/zipp/" })
        {
            var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, path);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Empty(page["files"]!.AsArray());
            Assert.Equal("quarantined upstream", ReviewIntegrationTests.QuarantineReason(page));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await proxy.Client.GetAsync($"dev/files/zipp/{Zipp37}")).StatusCode);
        var incident = Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().ToListAsync()));
        Assert.Equal((IncidentKind.UpstreamQuarantined, "zipp"), (incident.Kind, incident.Project));
        Assert.Contains("malware reported", incident.Detail, StringComparison.Ordinal);
        var alert = Assert.Single(await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.AlertUpstreamQuarantined).ToListAsync()));
        Assert.Equal(("system", "zipp"), (alert.Actor, alert.Subject));
        Assert.Equal("quarantined", (await proxy.QueryAsync(db => db.WatchedProjects.SingleAsync(w => w.Project == "zipp"))).Status);
        // The quarantined page lists no files; that is not a removal.
        Assert.All(await FilesAsync(proxy), f => Assert.Null(f.RemovedAt));
    }
}

public sealed class UpstreamWatchTestsOnSqlite : UpstreamWatchTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class UpstreamWatchTestsOnPostgres : UpstreamWatchTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
