using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// <c>vet:</c> in policy files through a running proxy whose clock the test moves: the cooldown, the vet-cutoff and the
/// anomaly signals decide when <see cref="PolicyVettingJob"/> vets; on SQLite and PostgreSQL.
/// </summary>
public abstract class PolicyVettingIntegrationTests
{
    private const string Zipp36 = "zipp-3.6.0-py3-none-any.whl";
    private const string Zipp37 = "zipp-3.7.0-py3-none-any.whl";

    // Well after the fixtures' upload time (2024-01-02): the cooldown counts from first sight here.
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    protected abstract DatabaseProvider Provider { get; }

    // prod (tier 3) has a 7 day cooldown (ProxyInstance's environments.yaml); every job run revalidates upstream's page.
    private async Task<(TestServers Servers, FakeTimeProvider Clock)> StartAsync(string policy)
    {
        var clock = new FakeTimeProvider(Start);
        var servers = await TestServers.StartAsync(
            Provider,
            "approve: [zipp, six]\n" + policy,
            new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" },
            configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        return (servers, clock);
    }

    private static async Task<PolicyVettingSummary> RunAsync(ProxyInstance proxy)
    {
        await using var scope = proxy.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PolicyVettingJob>().RunOnceAsync(CancellationToken.None);
    }

    private static Task<List<ReleaseDecision>> DecisionsAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().Include(d => d.Files).OrderBy(d => d.Version).ToListAsync());

    [Fact]
    public async Task Vet_WaitsInsideTheCooldown_ThenVetsOnceItPassed_PinnedAndAudited()
    {
        var (servers, clock) = await StartAsync("vet:\n  zipp: \">=3.6\"\n");
        await using var _ = servers;
        var proxy = servers.Proxy;

        var first = await RunAsync(proxy);
        clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        var almost = await RunAsync(proxy);
        var nothingYet = await DecisionsAsync(proxy);
        clock.Advance(TimeSpan.FromMinutes(1));
        var passed = await RunAsync(proxy);
        var again = await RunAsync(proxy);

        Assert.Equal((0, 2), (first.Vetted, first.Waiting));
        Assert.Contains("zipp 3.6.0: inside its cooldown of 7d until 2026-12-12 09:00 UTC (counted from 2026-12-05 09:00 UTC", first.FirstReasons, StringComparison.Ordinal);
        Assert.Equal((0, 2), (almost.Vetted, almost.Waiting));
        Assert.Empty(nothingYet);
        Assert.Equal((2, 0), (passed.Vetted, passed.Waiting));
        Assert.Equal((0, 0), (again.Vetted, again.Waiting));

        var decisions = await DecisionsAsync(proxy);
        Assert.Equal(["3.6.0", "3.7.0"], decisions.Select(d => d.Version));
        Assert.All(decisions, d => Assert.Equal(
            ("vetted", "policy", "policy", "safe-to-deploy", false, Start.AddDays(7).UtcDateTime, Start.UtcDateTime),
            (d.Verdict, d.How, d.Actor, d.Criteria, d.BreakGlass, d.DecidedAt, d.ReleasedAt)));
        Assert.Contains("vet: zipp", decisions[0].Reason, StringComparison.Ordinal);
        var pinned = Assert.Single(decisions[0].Files);
        Assert.Equal((Zipp36, servers.Upstream.File(Zipp36).Sha256, (long)servers.Upstream.File(Zipp36).Content.Length), (pinned.Filename, pinned.Sha256, pinned.Size));
        Assert.Equal(Zipp37, Assert.Single(decisions[1].Files).Filename);

        // Audited in the same transaction: each decision names its audit record, whose actor is policy.
        var audit = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Subject.StartsWith("release:zipp")).OrderBy(r => r.Id).ToListAsync());
        Assert.Equal(["release:zipp==3.6.0", "release:zipp==3.7.0"], audit.Select(r => r.Subject).Order(StringComparer.Ordinal));
        Assert.All(audit, r => Assert.Equal(("policy", AuditAction.ReleaseVet), (r.Actor, r.Action)));
        Assert.Equal(audit.Select(r => (long?)r.Id).Order(), decisions.Select(d => d.AuditRecordId).Order());

        // Tier 3 now lists and serves them; six, with no 'vet:', stays unvetted.
        Assert.Equal([Zipp36, Zipp37], (await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/")).Order(StringComparer.Ordinal));
        Assert.Empty(await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/six/"));
    }

    [Fact]
    public async Task Vet_OnlyReleasesMatchingTheSpecifier()
    {
        var (servers, clock) = await StartAsync("vet:\n  zipp: \"<3.7\"\n");
        await using var _ = servers;

        await RunAsync(servers.Proxy);
        clock.Advance(TimeSpan.FromDays(8));
        var run = await RunAsync(servers.Proxy);

        Assert.Equal((1, 0), (run.Vetted, run.Waiting));
        Assert.Equal(["3.6.0"], (await DecisionsAsync(servers.Proxy)).Select(d => d.Version));
    }

    [Fact]
    public async Task PerProjectCooldown_OverridesTheEnvironments()
    {
        var (servers, clock) = await StartAsync("vet:\n  zipp: \">=3.6\"\ncooldown:\n  zipp: 1h\n");
        await using var _ = servers;

        var first = await RunAsync(servers.Proxy);
        clock.Advance(TimeSpan.FromHours(1));
        var afterAnHour = await RunAsync(servers.Proxy);

        Assert.Contains("inside its cooldown of 1h", first.FirstReasons, StringComparison.Ordinal);
        Assert.Equal((2, 0), (afterAnHour.Vetted, afterAnHour.Waiting));
    }

    [Fact]
    public async Task VetCutoff_AReleaseFirstSeenAfterIt_IsNeverVettedByPolicy_ButAReviewerMayVetIt()
    {
        // The cut-off falls one day after the first pass: 3.6.0 and 3.7.0 were seen before it, 3.8.0 after.
        var (servers, clock) = await StartAsync("vet:\n  zipp: \">=3.6\"\nvet-cutoff: 2026-12-06T09:00:00Z\n");
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await RunAsync(proxy);
        clock.Advance(TimeSpan.FromDays(2));
        upstream.AddFile("zipp", "zipp-3.8.0-py3-none-any.whl", upstream.File(Zipp37).Content);
        await RunAsync(proxy);

        clock.Advance(TimeSpan.FromDays(30));
        var run = await RunAsync(proxy);
        var later = await RunAsync(proxy);
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.8.0");
        var reviewer = await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.8.0/vet", new { reason = "read the diff during the outbreak" });

        Assert.Equal((2, 1), (run.Vetted, run.Waiting));
        Assert.Contains("zipp 3.8.0: first seen 2026-12-07 09:00 UTC, after the vet-cutoff 2026-12-06 09:00 UTC", run.FirstReasons, StringComparison.Ordinal);
        Assert.Equal((0, 1), (later.Vetted, later.Waiting));
        Assert.False(explain["visible"]!.GetValue<bool>());
        Assert.Contains("vet-cutoff", explain["release"]!["policyWait"].Text(), StringComparison.Ordinal);
        Assert.Null(explain["release"]!["reviewerWait"]);
        Assert.Equal(("vetted", "reviewer"), (reviewer["verdict"].Text(), reviewer["how"].Text()));
        Assert.Equal(["3.6.0", "3.7.0", "3.8.0"], (await DecisionsAsync(proxy)).Select(d => d.Version));
    }

    [Fact]
    public async Task Signal_StopsPolicyVetting_NamingTheSignal()
    {
        var (servers, clock) = await StartAsync("vet:\n  zipp: \">=3.6\"\n");
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await RunAsync(proxy);
        // After two wheel releases, one with only an sdist: installing it runs its build code.
        upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", "an sdist with a setup.py"u8.ToArray());
        await RunAsync(proxy);

        clock.Advance(TimeSpan.FromDays(30));
        var run = await RunAsync(proxy);

        Assert.Equal((2, 1), (run.Vetted, run.Waiting));
        var reason = Assert.Single(run.Reasons);
        Assert.StartsWith("zipp 3.8.0: anomaly signals stop policy vetting: ", reason, StringComparison.Ordinal);
        Assert.Contains("install-time-code: Only source distributions (zipp-3.8.0.tar.gz)", reason, StringComparison.Ordinal);
        Assert.Equal(["3.6.0", "3.7.0"], (await DecisionsAsync(proxy)).Select(d => d.Version));
    }

    [Fact]
    public async Task SignalNeverStored_PolicyVettingStillFindsIt()
    {
        var (servers, clock) = await StartAsync("vet:\n  zipp: \">=3.6\"\n");
        await using var _ = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await RunAsync(proxy);
        upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", "an sdist with a setup.py"u8.ToArray());
        await RunAsync(proxy);
        // As if the node had stopped between recording the release's first sight and its signals.
        await proxy.QueryAsync(db => db.ReleaseSignals.ExecuteDeleteAsync());

        clock.Advance(TimeSpan.FromDays(30));
        var run = await RunAsync(proxy);

        Assert.Equal((2, 1), (run.Vetted, run.Waiting));
        Assert.Contains("install-time-code", Assert.Single(run.Reasons), StringComparison.Ordinal);
    }
}

public sealed class PolicyVettingIntegrationTestsOnSqlite : PolicyVettingIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class PolicyVettingIntegrationTestsOnPostgres : PolicyVettingIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
