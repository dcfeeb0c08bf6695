using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Features.Releases;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceServers;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// Automatic vetting (actor and how <c>auto</c>) of real attested releases through a running proxy whose clock the test
/// moves (prod's cooldown is 7 days); on SQLite and PostgreSQL.
/// </summary>
public abstract class AutoVettingIntegrationTests
{
    protected abstract DatabaseProvider Provider { get; }

    private static async Task<AutoVettingSummary> RunJobAsync(ProxyInstance proxy)
    {
        await using var scope = proxy.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AutoVettingJob>().RunOnceAsync(CancellationToken.None);
    }

    private static Task<List<ReleaseDecision>> DecisionsAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().Include(d => d.Files).OrderBy(d => d.Id).ToListAsync());

    [Fact]
    public async Task PublisherVettedInPolicy_WaitsOutTheCooldown_ThenVetsPinnedAndAuditedWithTheEvidence_Once()
    {
        var (servers, clock) = await StartAsync(Provider, $"approve: [pypi-attestations]\npublishers:\n  pypi-attestations: [\"{PypiAttestationsPublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var file = upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);

        var inside = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        var almost = await RunJobAsync(proxy);
        clock.Advance(TimeSpan.FromMinutes(1));
        var passed = await RunJobAsync(proxy);
        var again = await RunJobAsync(proxy);
        var direct = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);

        Assert.Equal(VetStatus.NotNow, inside.Status);
        Assert.Contains("inside its cooldown of 7d until 2026-12-12 09:00 UTC", inside.Message, StringComparison.Ordinal);
        Assert.Equal((0, 1), (almost.Vetted, almost.Waiting));
        Assert.Contains("cooldown", almost.FirstReasons, StringComparison.Ordinal);
        Assert.Equal((1, 0), (passed.Vetted, passed.Waiting));
        Assert.Equal((0, 0), (again.Vetted, again.Waiting));
        Assert.Equal(VetStatus.NotNow, direct.Status);
        Assert.Contains("already", direct.Message, StringComparison.Ordinal);

        var decision = Assert.Single(await DecisionsAsync(proxy));
        Assert.Equal(("0.0.19", ReleaseVerdictText.Vetted, AutoVetting.Actor, VettingHow.Auto, Start.AddDays(7).UtcDateTime), (decision.Version, decision.Verdict, decision.Actor, decision.How, decision.DecidedAt));
        var pinned = Assert.Single(decision.Files);
        Assert.Equal((PypiAttestations, file.Sha256, ProvenanceFixtures.Sha256(PypiAttestations)), (pinned.Filename, pinned.Sha256, pinned.Sha256));
        var record = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().SingleAsync(r => r.Id == decision.AuditRecordId));
        Assert.Equal((AutoVetting.Actor, AuditAction.ReleaseVet, "release:pypi-attestations==0.0.19"), (record.Actor, record.Action, record.Subject));
        Assert.Contains(PypiAttestationsPublisher, record.Reason, StringComparison.Ordinal);
        Assert.Contains($"rekor.sigstore.dev entries {PypiAttestationsLogIndex}", record.Reason, StringComparison.Ordinal);
        Assert.Equal([PypiAttestations], await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/pypi-attestations/"));
    }

    [Fact]
    public async Task StoredVerifiedResultChangedBehindTheApplicationsBack_IsVerifiedAgain_AndVetsNothing()
    {
        var (servers, clock) = await StartAsync(Provider, $"approve: [pypi-attestations]\npublishers:\n  pypi-attestations: [\"{PypiAttestationsPublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);
        await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        var stored = await proxy.QueryAsync(db => db.FileProvenances.AsNoTracking().SingleAsync(p => p.Filename == PypiAttestations));

        // Someone with database access swaps the stored document (another release's provenance) and leaves the row "verified".
        await proxy.QueryAsync(async db =>
        {
            var row = await db.FileProvenances.SingleAsync(p => p.Filename == PypiAttestations);
            row.Document = System.Text.Encoding.UTF8.GetBytes(Document(Sigstore));
            return await db.SaveChangesAsync();
        });
        clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        var outcome = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);

        Assert.Equal(ProvenanceStateText.Verified, stored.State);
        Assert.Equal(VetStatus.NotNow, outcome.Status);
        Assert.Contains("the stored document no longer verifies", outcome.Message, StringComparison.Ordinal);
        Assert.Empty(await DecisionsAsync(proxy));
    }

    [Fact]
    public async Task PublisherVettedThroughTheApi_VetsOnceTheCooldownPassed()
    {
        var (servers, clock) = await StartAsync(Provider, "approve: [gitlab-oidc-project]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var file = upstream.AddAttested("gitlab-oidc-project", GitLab, Document(GitLab));

        var before = await proxy.Auto().TryVetAsync("gitlab-oidc-project", "0.0.3", CancellationToken.None);
        await proxy.PostJsonAsync("api/v1/projects/gitlab-oidc-project/publishers", new { publisher = GitLabPublisher, reason = "our CI" });
        var inside = await proxy.Auto().TryVetAsync("gitlab-oidc-project", "0.0.3", CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        var passed = await proxy.Auto().TryVetAsync("gitlab-oidc-project", "0.0.3", CancellationToken.None);

        Assert.Equal("gitlab-oidc-project has no vetted publisher", before.Message);
        Assert.Contains("cooldown", inside.Message, StringComparison.Ordinal);
        Assert.Equal(VetStatus.Vetted, passed.Status);
        var decision = Assert.Single(await DecisionsAsync(proxy));
        Assert.Equal((AutoVetting.Actor, VettingHow.Auto, file.Sha256), (decision.Actor, decision.How, Assert.Single(decision.Files).Sha256));
        Assert.Contains(GitLabPublisher, decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotVetted_WhenThePublisherIsNotVetted_OrItsUntilIsBeforeTheUpload_OrTheProvenanceFailed()
    {
        var (servers, clock) = await StartAsync(Provider,
            "approve: [pypi-attestations, sigstore, gitlab-oidc-project]\npublishers:\n"
            + "  pypi-attestations: [\"github:trailofbits/pypi-attestations/.github/workflows/publish.yml\"]\n"
            + $"  gitlab-oidc-project: [{{ publisher: \"{GitLabPublisher}\", until: 2025-06-30 }}]\n"
            + $"  sigstore: [\"{SigstorePublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);
        upstream.AddAttested("gitlab-oidc-project", GitLab, Document(GitLab), "2025-07-01T00:00:00Z");
        var flipped = FlipSignatureByte(Document(Sigstore));
        upstream.AddAttested("sigstore", Sigstore, flipped);
        var auto = proxy.Auto();
        await RunJobAsync(proxy);
        clock.Advance(TimeSpan.FromDays(30));

        var otherWorkflow = await auto.TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        var expired = await auto.TryVetAsync("gitlab-oidc-project", "0.0.3", CancellationToken.None);
        var failed = await auto.TryVetAsync("sigstore", "3.6.1", CancellationToken.None);
        var job = await RunJobAsync(proxy);

        Assert.Equal((VetStatus.NotNow, $"'{PypiAttestations}' is published by {PypiAttestationsPublisher}, not by a publisher vetted for pypi-attestations at its upload time"), (otherWorkflow.Status, otherWorkflow.Message));
        Assert.Equal((VetStatus.NotNow, $"'{GitLab}' is published by {GitLabPublisher}, not by a publisher vetted for gitlab-oidc-project at its upload time"), (expired.Status, expired.Message));
        var reason = Verify(flipped, Sigstore).Failure;
        Assert.Equal(
            (VetStatus.NotNow, $"'{Sigstore}': provenance failed ({reason}); anomaly signals: provenance-failed: 1 of 1 files of 3.6.1 failed provenance verification: {Sigstore}: {reason}."),
            (failed.Status, failed.Message));
        Assert.Equal((0, 3), (job.Vetted, job.Waiting));
        Assert.Empty(await DecisionsAsync(proxy));
    }

    [Fact]
    public async Task NotVetted_WhenTheProjectIsNotApproved_OrTheReleaseWasFirstSeenAfterTheVetCutoff()
    {
        var (servers, clock) = await StartAsync(Provider,
            $"approve: [sigstore]\nvet-cutoff: 2026-12-01T00:00:00Z\npublishers:\n  pypi-attestations: [\"{PypiAttestationsPublisher}\"]\n  sigstore: [\"{SigstorePublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);
        upstream.AddAttested("sigstore", Sigstore, Document(Sigstore));
        await proxy.Auto().TryVetAsync("sigstore", "3.6.1", CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(30));

        var notApproved = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        var afterCutoff = await proxy.Auto().TryVetAsync("sigstore", "3.6.1", CancellationToken.None);

        Assert.Equal((VetStatus.NotNow, "pypi-attestations is not approved"), (notApproved.Status, notApproved.Message));
        Assert.Equal(VetStatus.NotNow, afterCutoff.Status);
        Assert.StartsWith("first seen 2026-12-05 09:00 UTC, after the vet-cutoff 2026-12-01 00:00 UTC", afterCutoff.Message, StringComparison.Ordinal);
        Assert.Equal(ProvenanceStateText.Verified, (await proxy.RowAsync(Sigstore))!.State);
        Assert.Empty(await DecisionsAsync(proxy));
    }
}

public sealed class AutoVettingIntegrationTestsOnSqlite : AutoVettingIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class AutoVettingIntegrationTestsOnPostgres : AutoVettingIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
