using CuratedIndex.Data;
using CuratedIndex.Features.JsonApi;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// First sight and anomaly signals as a running proxy records them (tier 3 page requests, the upstream watch), with a clock
/// the test moves; shown by the release API and explain. On SQLite and PostgreSQL.
/// </summary>
public abstract class ReleaseObserverIntegrationTests
{
    private const string Zipp36 = "zipp-3.6.0-py3-none-any.whl";
    private const string Zipp37 = "zipp-3.7.0-py3-none-any.whl";
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTime FixtureUploadTime = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560);

    protected abstract DatabaseProvider Provider { get; }

    private async Task<(TestServers Servers, FakeTimeProvider Clock)> StartAsync()
    {
        var clock = new FakeTimeProvider(Start);
        var servers = await TestServers.StartAsync(
            Provider,
            "approve: [zipp]\n",
            new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" },
            configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        return (servers, clock);
    }

    private static Task<List<SeenRelease>> SeenAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.SeenReleases.AsNoTracking().Where(r => r.Project == "zipp").OrderBy(r => r.Version).ToListAsync());

    private static Task<List<UpstreamFile>> FilesAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.UpstreamFiles.AsNoTracking().Where(f => f.Project == "zipp").OrderBy(f => f.Filename).ToListAsync());

    private static Task<List<ReleaseSignal>> SignalsAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.ReleaseSignals.AsNoTracking().Where(s => s.Project == "zipp").OrderBy(s => s.Id).ToListAsync());

    private static async Task<ProjectPage> PageAsync(ProxyInstance proxy)
    {
        var lookup = await proxy.Services.GetRequiredService<ProjectPageCache>().GetAsync("zipp", CancellationToken.None);
        return lookup.Value!.Page;
    }

    [Fact]
    public async Task FirstSight_IsRecordedOnce_WithUpstreamsUploadTime()
    {
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var proxy = servers.Proxy;

        await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/");
        var seen = await SeenAsync(proxy);
        var files = await FilesAsync(proxy);
        clock.Advance(TimeSpan.FromDays(3));
        await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/");
        var again = await proxy.Services.GetRequiredService<ReleaseObserver>().ObserveAsync(await PageAsync(proxy), CancellationToken.None);

        Assert.Equal(["3.6.0", "3.7.0"], seen.Select(r => r.Version));
        Assert.All(seen, r => Assert.Equal((Start.UtcDateTime, (DateTime?)FixtureUploadTime), (r.FirstSeenAt, r.UploadedAt)));
        Assert.Equal([Zipp36, Zipp37], files.Select(f => f.Filename));
        Assert.All(files, f => Assert.Equal(Start.UtcDateTime, f.FirstSeenAt));
        // A second sight three days later changes nothing: the cooldown still counts from the first.
        Assert.Empty(again);
        Assert.Equal(seen.Select(r => (r.Id, r.Version, r.FirstSeenAt, r.UploadedAt)), (await SeenAsync(proxy)).Select(r => (r.Id, r.Version, r.FirstSeenAt, r.UploadedAt)));
        Assert.Equal(files.Select(f => (f.Id, f.FirstSeenAt)), (await FilesAsync(proxy)).Select(f => (f.Id, f.FirstSeenAt)));
    }

    [Fact]
    public async Task ConcurrentObservations_OnOneDatabase_RecordOnce()
    {
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", "an sdist with a setup.py"u8.ToArray());
        var page = await PageAsync(proxy);
        // Four nodes, each with its own observer (and memory of observed pages), on the one database.
        var scopes = proxy.Services.GetRequiredService<IServiceScopeFactory>();
        var jsonApi = proxy.Services.GetRequiredService<JsonApiCache>();
        var nodes = Enumerable.Range(0, 4).Select(_ => new ReleaseObserver(scopes, jsonApi, clock, NullLogger<ReleaseObserver>.Instance)).ToList();

        var observed = await Task.WhenAll(nodes.Select(node => Task.Run(() => node.ObserveAsync(page, stamp: 1, CancellationToken.None))));
        var seen = await SeenAsync(proxy);
        var files = await FilesAsync(proxy);
        var signals = await SignalsAsync(proxy);

        Assert.All(observed, Assert.True);
        Assert.Equal(["3.6.0", "3.7.0", "3.8.0"], seen.Select(r => r.Version));
        Assert.Equal([Zipp36, Zipp37, "zipp-3.8.0.tar.gz"], files.Select(f => f.Filename));
        Assert.Contains(signals, s => (s.Version, s.Kind) == ("3.8.0", AnomalySignalKind.InstallTimeCode));
        Assert.Equal(signals.Count, signals.Select(s => (s.Version, s.Kind)).Distinct().Count());
    }

    [Fact]
    public async Task ConcurrentObservations_AsTheWatchAndPolicyVettingMakeThem_NeitherFailNorRecordTwice()
    {
        // The upstream watch and the policy vetting job observe without the page-request guard: losing the race to another
        // node must not fail their pass.
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", "an sdist with a setup.py"u8.ToArray());
        var page = await PageAsync(proxy);
        var scopes = proxy.Services.GetRequiredService<IServiceScopeFactory>();
        var jsonApi = proxy.Services.GetRequiredService<JsonApiCache>();
        var nodes = Enumerable.Range(0, 4).Select(_ => new ReleaseObserver(scopes, jsonApi, clock, NullLogger<ReleaseObserver>.Instance)).ToList();

        var firstSeen = await Task.WhenAll(nodes.Select(node => Task.Run(() => node.ObserveAsync(page, CancellationToken.None, ["3.8.0"]))));
        var seen = await SeenAsync(proxy);
        var signals = await SignalsAsync(proxy);

        // Each release is first seen by exactly one node.
        Assert.Equal(["3.6.0", "3.7.0", "3.8.0"], firstSeen.SelectMany(v => v).Order(StringComparer.Ordinal));
        Assert.Equal(["3.6.0", "3.7.0", "3.8.0"], seen.Select(r => r.Version));
        Assert.Equal(3, (await FilesAsync(proxy)).Count);
        Assert.Contains(signals, s => (s.Version, s.Kind) == ("3.8.0", AnomalySignalKind.InstallTimeCode));
        Assert.Equal(signals.Count, signals.Select(s => (s.Version, s.Kind)).Distinct().Count());
    }

    [Fact]
    public async Task Signal_OfASdistOnlyRelease_IsStoredWithEvidence_AndShownInTheApiAndExplain()
    {
        var (servers, _) = await StartAsync();
        await using var __ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", "an sdist with a setup.py"u8.ToArray());

        await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/");
        var signals = await SignalsAsync(proxy);
        var release = await proxy.GetJsonAsync("api/v1/projects/zipp/releases/3.8.0");
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.8.0");
        var queue = await proxy.GetJsonAsync("api/v1/releases?status=pending&project=zipp");

        Assert.All(signals, s => Assert.Equal("3.8.0", s.Version));
        var stored = Assert.Single(signals, s => s.Kind == AnomalySignalKind.InstallTimeCode);
        Assert.Equal(Start.UtcDateTime, stored.DetectedAt);
        Assert.Contains("zipp-3.8.0.tar.gz", stored.Evidence, StringComparison.Ordinal);
        Assert.Contains("3.7.0 had 1 wheel", stored.Evidence, StringComparison.Ordinal);

        Assert.Contains(release["signals"]!.AsArray(), s => s!["kind"].Text() == AnomalySignalKind.InstallTimeCode && s["evidence"].Text() == stored.Evidence);
        Assert.Contains("install-time-code", release["policyWait"].Text(), StringComparison.Ordinal);
        Assert.Contains(explain["release"]!["signals"]!.AsArray(), s => s!["kind"].Text() == AnomalySignalKind.InstallTimeCode && s["evidence"].Text() == stored.Evidence);
        Assert.Contains("anomaly signals stop policy vetting", explain["release"]!["policyWait"].Text(), StringComparison.Ordinal);
        var item = Assert.Single(queue["items"]!.AsArray(), i => i!["version"].Text() == "3.8.0");
        Assert.Contains(AnomalySignalKind.InstallTimeCode, item!["signals"]!.AsArray().Select(k => k.Text()));
        // The earlier wheel releases carry none.
        Assert.Empty((await proxy.GetJsonAsync("api/v1/projects/zipp/releases/3.7.0"))["signals"]!.AsArray());
    }

    [Fact]
    public async Task ReleaseFirstSeenWhileItsWheelsWereStillUploading_LosesTheSignalOnceTheyArrive()
    {
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var watcher = proxy.Services.GetRequiredService<UpstreamWatcher>();
        await watcher.RunOnceAsync(CancellationToken.None);

        // 3.8.0 first seen with only its sdist up: it looks like install-time code where there were wheels.
        clock.Advance(TimeSpan.FromMinutes(15));
        upstream.Serial++;
        upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", "the 3.8.0 sdist"u8.ToArray());
        await watcher.RunOnceAsync(CancellationToken.None);
        var whileUploading = await SignalsAsync(proxy);

        // Its wheel arrives an hour later, within the grace.
        clock.Advance(TimeSpan.FromHours(1));
        upstream.Serial++;
        upstream.AddFile("zipp", "zipp-3.8.0-py3-none-any.whl", upstream.File(Zipp37).Content);
        await watcher.RunOnceAsync(CancellationToken.None);
        var afterUpload = await SignalsAsync(proxy);

        Assert.Contains(whileUploading, s => s.Version == "3.8.0" && s.Kind == AnomalySignalKind.InstallTimeCode);
        Assert.DoesNotContain(afterUpload, s => s.Version == "3.8.0");
    }

    [Fact]
    public async Task FileAddedToASeenRelease_AfterTheGrace_IsASignal_ViaTheUpstreamWatch()
    {
        var (servers, clock) = await StartAsync();
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var watcher = proxy.Services.GetRequiredService<UpstreamWatcher>();
        await watcher.RunOnceAsync(CancellationToken.None);

        // Within the grace (CI still uploading): no signal.
        clock.Advance(TimeSpan.FromHours(1));
        upstream.Serial++;
        upstream.AddFile("zipp", "zipp-3.7.0.tar.gz", "the 3.7.0 sdist"u8.ToArray());
        await watcher.RunOnceAsync(CancellationToken.None);
        var withinGrace = await SignalsAsync(proxy);

        // Two days after 3.6.0 was first seen, a file appears in it.
        clock.Advance(TimeSpan.FromDays(2));
        upstream.Serial++;
        upstream.AddFile("zipp", "zipp-3.6.0.tar.gz", "an sdist added later"u8.ToArray());
        await watcher.RunOnceAsync(CancellationToken.None);
        var signals = await SignalsAsync(proxy);
        var release = await proxy.GetJsonAsync("api/v1/projects/zipp/releases/3.6.0");
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.6.0");

        Assert.Empty(withinGrace);
        var signal = Assert.Single(signals);
        Assert.Equal(("3.6.0", AnomalySignalKind.FilesAddedLater, Start.AddHours(1).AddDays(2).UtcDateTime), (signal.Version, signal.Kind, signal.DetectedAt));
        Assert.Contains("zipp-3.6.0.tar.gz (first seen ", signal.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(Zipp36 + " (", signal.Evidence, StringComparison.Ordinal);
        var late = (await FilesAsync(proxy)).Single(f => f.Filename == "zipp-3.6.0.tar.gz");
        Assert.Equal(Start.AddHours(1).AddDays(2).UtcDateTime, late.FirstSeenAt);
        // First sight of the release is unchanged; the signal is shown to reviewers and stops policy vetting.
        Assert.Equal(Start.UtcDateTime, (await SeenAsync(proxy)).Single(r => r.Version == "3.6.0").FirstSeenAt);
        Assert.Equal(AnomalySignalKind.FilesAddedLater, Assert.Single(release["signals"]!.AsArray())!["kind"].Text());
        Assert.Equal("not-pinned", release["files"]!.AsArray().Single(f => f!["filename"].Text() == "zipp-3.6.0.tar.gz")!["pinned"].Text());
        Assert.Equal(AnomalySignalKind.FilesAddedLater, Assert.Single(explain["release"]!["signals"]!.AsArray())!["kind"].Text());
    }
}

public sealed class ReleaseObserverIntegrationTestsOnSqlite : ReleaseObserverIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ReleaseObserverIntegrationTestsOnPostgres : ReleaseObserverIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
