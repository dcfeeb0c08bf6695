using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceServers;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// PEP 740 provenance in the running product, over the real attested fixtures served by a fake PyPI: what is stored per
/// file, the durable work that stores it, the tier 3 endpoint, the provenance signals; on SQLite and PostgreSQL.
/// </summary>
public abstract class ProvenanceIntegrationTests
{
    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task Checks_StoreVerifiedWithPublisherAndLogIndex_NoneWithoutProvenance_FailedWithTheReasonForAFlippedByte_RaisingOneIncidentAndOneAlertHoweverOftenChecked()
    {
        var (servers, _) = await StartAsync(Provider, "approve: [pypi-attestations, sigstore, zipp]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var attested = upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations));
        var flipped = FlipSignatureByte(Document(Sigstore));
        upstream.AddAttested("sigstore", Sigstore, flipped);
        var checks = proxy.Checks();

        var verified = Assert.Single(await checks.CheckReleaseAsync("pypi-attestations", "0.0.19", CancellationToken.None));
        var none = Assert.Single(await checks.CheckReleaseAsync("zipp", "3.6.0", CancellationToken.None));
        // Two nodes check the failing file at once, then it is checked again and again.
        var secondNode = ActivatorUtilities.CreateInstance<ProvenanceChecks>(proxy.Services);
        await Task.WhenAll(
            checks.CheckReleaseAsync("sigstore", "3.6.1", CancellationToken.None),
            secondNode.CheckReleaseAsync("sigstore", "3.6.1", CancellationToken.None));
        await checks.CheckReleaseAsync("sigstore", "3.6.1", CancellationToken.None);
        await secondNode.CheckReleaseAsync("sigstore", "3.6.1", CancellationToken.None);

        Assert.Equal((ProvenanceStateText.Verified, PypiAttestationsPublisher, attested.Sha256, "0.0.19"), (verified.State, verified.Publishers, verified.Sha256, verified.Version));
        var evidence = Assert.Single(ProvenanceChecks.EvidenceOf(verified));
        Assert.Equal((PypiAttestationsLogIndex, "rekor.sigstore.dev", PypiAttestationsPublisher, "refs/tags/v0.0.19"), (evidence.LogIndex, evidence.LogOrigin, evidence.Publisher.Canonical, evidence.SourceRef));
        Assert.Equal(ProvenanceFixtures.Read(PypiAttestations + ".provenance"), verified.Document);
        Assert.Equal((ProvenanceStateText.None, null, null), (none.State, none.Document, none.Failure));

        var rows = await proxy.QueryAsync(db => db.FileProvenances.AsNoTracking().OrderBy(p => p.Filename).ToListAsync());
        Assert.Equal([PypiAttestations, Sigstore, "zipp-3.6.0-py3-none-any.whl"], rows.Select(r => r.Filename));
        var failed = rows.Single(r => r.Filename == Sigstore);
        var expected = Verify(flipped, Sigstore).Failure;
        Assert.Contains("DSSE signature does not verify", expected, StringComparison.Ordinal);
        Assert.Equal((ProvenanceStateText.Failed, expected, null), (failed.State, failed.Failure, failed.Publishers));

        var incidents = await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.ProvenanceFailed).ToListAsync());
        var incident = Assert.Single(incidents);
        Assert.Equal((IncidentSeverity.High, "sigstore", Sigstore), (incident.Severity, incident.Project, incident.Filename));
        Assert.Contains(expected!, incident.Detail, StringComparison.Ordinal);
        var alerts = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.AlertProvenanceFailed).ToListAsync());
        Assert.Equal("release:sigstore==3.6.1", Assert.Single(alerts).Subject);
        Assert.Contains(expected!, alerts[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApprovedProjectsRelease_SeenByTheUpstreamWatchOrATier3Page_IsCheckedAsDurableWork_WithNobodyAsking()
    {
        var (servers, _) = await StartAsync(Provider, "", ManualJobs.Settings());
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations));
        upstream.AddAttested("sigstore", Sigstore, Document(Sigstore));
        var watcher = proxy.Services.GetRequiredService<UpstreamWatcher>();

        await proxy.PostJsonAsync("api/v1/projects/pypi-attestations/approve", new { reason = "we use it" });
        await watcher.RunOnceAsync(CancellationToken.None);
        var byWatch = await proxy.WaitForRowAsync(PypiAttestations);
        var notApprovedYet = await proxy.RowAsync(Sigstore);

        await proxy.PostJsonAsync("api/v1/projects/sigstore/approve", new { reason = "we use it" });
        using (var page = await proxy.Client.GetAsync("prod/simple/sigstore/"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        var byPage = await proxy.WaitForRowAsync(Sigstore);

        Assert.NotNull(byWatch);
        Assert.Equal((ProvenanceStateText.Verified, PypiAttestationsPublisher), (byWatch.State, byWatch.Publishers));
        Assert.Null(notApprovedYet);
        Assert.NotNull(byPage);
        Assert.Equal((ProvenanceStateText.Verified, SigstorePublisher), (byPage.State, byPage.Publishers));
        // Fetched once each: the work, not the request, read the documents.
        Assert.Equal(1, upstream.HitsOn($"/integrity/pypi-attestations/0.0.19/{PypiAttestations}/provenance"));
        Assert.Equal(1, upstream.HitsOn($"/integrity/sigstore/3.6.1/{Sigstore}/provenance"));
    }

    [Fact]
    public async Task Tier3ProvenanceEndpoint_ServesTheStoredVerifiedDocumentByteForByte_404WithTheReasonWhenFailed_Tier1PassesUpstreamsThrough()
    {
        var (servers, _) = await StartAsync(Provider, "approve: [pypi-attestations, sigstore]\ncooldown:\n  pypi-attestations: 0d\n  sigstore: 0d\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var attested = upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations));
        var flipped = FlipSignatureByte(Document(Sigstore));
        upstream.AddAttested("sigstore", Sigstore, flipped);
        const string Good = $"prod/integrity/pypi-attestations/0.0.19/{PypiAttestations}/provenance";
        const string Bad = $"prod/integrity/sigstore/3.6.1/{Sigstore}/provenance";

        using (var unvetted = await proxy.Client.GetAsync(Good))
        {
            Assert.Equal(HttpStatusCode.NotFound, unvetted.StatusCode);
        }

        await proxy.PostJsonAsync("api/v1/projects/pypi-attestations/releases/0.0.19/vet", new { reason = "read the diff" });
        await proxy.PostJsonAsync("api/v1/projects/sigstore/releases/3.6.1/vet", new { reason = "read the diff" });
        using var first = await proxy.Client.GetAsync(Good);
        var firstBody = await first.Content.ReadAsByteArrayAsync();
        // Upstream now serves something else for the file: tier 3 keeps serving what it verified.
        attested.Provenance = Document(Sigstore);
        using var second = await proxy.Client.GetAsync(Good);
        using var failed = await proxy.Client.GetAsync(Bad);
        using var tier1 = await proxy.Client.GetAsync($"dev/integrity/sigstore/3.6.1/{Sigstore}/provenance");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(ProvenanceEndpointsMediaType, first.Content.Headers.ContentType!.MediaType);
        Assert.Equal(ProvenanceFixtures.Read(PypiAttestations + ".provenance"), firstBody);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(firstBody, await second.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.NotFound, failed.StatusCode);
        var message = JsonNode.Parse(await failed.Content.ReadAsStringAsync())!["message"].Text();
        Assert.StartsWith($"No verified provenance for {Sigstore}: failed (", message, StringComparison.Ordinal);
        Assert.Contains(Verify(flipped, Sigstore).Failure!, message, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, tier1.StatusCode);
        Assert.Equal(ProvenanceEndpointsMediaType, tier1.Content.Headers.ContentType!.MediaType);
        Assert.Equal(flipped, await tier1.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NextReleaseServedWithoutProvenance_AfterAVettedAttestedOne_RecordsProvenanceRegression_AndIsNotVettedAutomatically()
    {
        var (servers, clock) = await StartAsync(Provider, $"approve: [pypi-attestations]\npublishers:\n  pypi-attestations: [\"{PypiAttestationsPublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);
        await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(8));
        var vetted = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);

        upstream.AddFile("pypi-attestations", "pypi_attestations-0.0.20.tar.gz", SimilarSdist("an sdist built somewhere else"), NextUploadTime);
        await proxy.ObserveAsync("pypi-attestations");
        await proxy.Checks().CheckReleaseAsync("pypi-attestations", "0.0.20", CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(8));
        var refused = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.20", CancellationToken.None);
        var signals = await proxy.QueryAsync(db => db.ReleaseSignals.AsNoTracking().Where(s => s.Project == "pypi-attestations").ToListAsync());
        var decisions = await proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().Select(d => d.Version).ToListAsync());

        Assert.Equal(VetStatus.Vetted, vetted.Status);
        Assert.Equal(VetStatus.NotNow, refused.Status);
        const string Evidence = "1 of 1 files of 0.0.20 have no provenance (pypi_attestations-0.0.20.tar.gz), where every file of 0.0.19, the previous vetted release, had verified provenance (1 file).";
        var regression = Assert.Single(signals);
        Assert.Equal(("0.0.20", AnomalySignalKind.ProvenanceRegression, Evidence), (regression.Version, regression.Kind, regression.Evidence));
        Assert.Equal($"'pypi_attestations-0.0.20.tar.gz': provenance none; anomaly signals: provenance-regression: {Evidence}", refused.Message);
        Assert.Equal(["0.0.19"], decisions);
    }

    /// <summary>
    /// Two real attested releases of one project from different repositories do not exist in the fixtures (an attestation
    /// names its file, so it cannot be listed under another name). 0.0.19 is the real verified file; the row stored for
    /// 0.0.20 is what a verification proving another repository would store, written directly.
    /// </summary>
    [Fact]
    public async Task ReleaseWhoseVerifiedPublisherIsAnotherRepository_RecordsPublisherChanged_AndIsNotVettedAutomatically()
    {
        var (servers, clock) = await StartAsync(Provider, $"approve: [pypi-attestations]\npublishers:\n  pypi-attestations: [\"{PypiAttestationsPublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);
        var next = upstream.AddFile("pypi-attestations", "pypi_attestations-0.0.20.tar.gz", SimilarSdist("another sdist"), NextUploadTime);
        await proxy.ObserveAsync("pypi-attestations");
        var checks = proxy.Checks();
        await checks.CheckReleaseAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        await checks.CheckReleaseAsync("pypi-attestations", "0.0.20", CancellationToken.None);
        var real = Assert.Single(ProvenanceChecks.EvidenceOf((await proxy.RowAsync(PypiAttestations))!));
        var other = real with { Publisher = real.Publisher with { Repository = "attacker/pypi-attestations" }, LogIndex = real.LogIndex + 1 };
        await proxy.QueryAsync(db => db.FileProvenances.Where(p => p.Filename == next.Filename).ExecuteUpdateAsync(u => u
            .SetProperty(p => p.State, ProvenanceStateText.Verified)
            .SetProperty(p => p.Publishers, other.Publisher.Canonical)
            .SetProperty(p => p.Evidence, JsonSerializer.Serialize(new[] { other }, ProvenanceChecks.EvidenceJson))));

        await checks.RecordSignalsAsync("pypi-attestations", "0.0.20", CancellationToken.None);
        var signal = await proxy.QueryAsync(db => db.ReleaseSignals.AsNoTracking().SingleAsync(s => s.Version == "0.0.20"));
        clock.Advance(TimeSpan.FromDays(8));
        var refused = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.20", CancellationToken.None);
        // Vetting the new repository does not hide the change: the signal still stops automatic vetting.
        await proxy.PostJsonAsync("api/v1/projects/pypi-attestations/publishers", new { publisher = other.Publisher.Canonical, reason = "they moved" });
        var stillRefused = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.20", CancellationToken.None);

        Assert.Equal(AnomalySignalKind.PublisherChanged, signal.Kind);
        Assert.Equal(
            "0.0.20: pypi_attestations-0.0.20.tar.gz published by github:attacker/pypi-attestations/.github/workflows/release.yml (another repository, was trailofbits/pypi-attestations), where 0.0.19 was published by github:trailofbits/pypi-attestations/.github/workflows/release.yml.",
            signal.Evidence);
        // The stored row stands in for a verified document (no real one exists); automatic vetting verifies the stored
        // document again before it vets, so the row alone vets nothing, and the refusal names the signal too.
        Assert.Equal(VetStatus.NotNow, refused.Status);
        Assert.StartsWith("'pypi_attestations-0.0.20.tar.gz': provenance failed (the stored document no longer verifies", refused.Message, StringComparison.Ordinal);
        Assert.EndsWith($"; anomaly signals: publisher-changed: {signal.Evidence}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(VetStatus.NotNow, stillRefused.Status);
        Assert.Contains("anomaly signals: publisher-changed: 0.0.20: ", stillRefused.Message, StringComparison.Ordinal);
        Assert.Empty(await proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().ToListAsync()));
    }

    [Fact]
    public async Task Observer_RecordingNewFilesOfARelease_KeepsItsProvenanceSignals()
    {
        var (servers, _) = await StartAsync(Provider, "approve: [sigstore]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("sigstore", Sigstore, FlipSignatureByte(Document(Sigstore)));
        await proxy.ObserveAsync("sigstore");
        await proxy.Checks().CheckReleaseAsync("sigstore", "3.6.1", CancellationToken.None);
        var before = await proxy.QueryAsync(db => db.ReleaseSignals.AsNoTracking().Where(s => s.Project == "sigstore").ToListAsync());

        // A wheel of the same release appears upstream; a tier 3 page request has the observer record it (and compute the
        // release's anomaly signals again). The provenance work it enqueues does not run here (no job server).
        upstream.AddFile("sigstore", "sigstore-3.6.1-py3-none-any.whl", Encoding.UTF8.GetBytes("a wheel"));
        await proxy.ObserveAsync("sigstore");
        var recorded = await proxy.QueryAsync(db => db.UpstreamFiles.AsNoTracking().AnyAsync(f => f.Filename == "sigstore-3.6.1-py3-none-any.whl"));
        var after = await proxy.QueryAsync(db => db.ReleaseSignals.AsNoTracking().Where(s => s.Project == "sigstore").ToListAsync());

        var failed = Assert.Single(before);
        Assert.Equal((AnomalySignalKind.ProvenanceFailed, "3.6.1"), (failed.Kind, failed.Version));
        Assert.True(recorded, "the observer did not record the new wheel");
        Assert.Contains(after, s => s.Id == failed.Id && s.Kind == AnomalySignalKind.ProvenanceFailed && s.Evidence == failed.Evidence);
    }

    private const string ProvenanceEndpointsMediaType = CuratedIndex.Features.Files.ProvenanceEndpoints.ProvenanceMediaType;
}

public sealed class ProvenanceIntegrationTestsOnSqlite : ProvenanceIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ProvenanceIntegrationTestsOnPostgres : ProvenanceIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
