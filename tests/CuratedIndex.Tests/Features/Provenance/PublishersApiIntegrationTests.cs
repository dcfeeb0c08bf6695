using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceServers;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// <c>GET|POST|DELETE /api/v1/projects/{name}/publishers</c> through HTTP with real tokens, and a publisher row written
/// behind the application's back; on SQLite and PostgreSQL.
/// </summary>
public abstract class PublishersApiIntegrationTests
{
    private const string Path = "api/v1/projects/pypi-attestations/publishers";

    protected abstract DatabaseProvider Provider { get; }

    private static async Task<(HttpStatusCode Status, string Message)> SendAsync(ProxyInstance proxy, HttpMethod method, string path, object body, string token = ApiTestKit.BootstrapToken)
    {
        using var response = await proxy.SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? "" : JsonNode.Parse(text)?["message"]?.GetValue<string>() ?? text);
    }

    private static Task<List<AuditRecord>> PublisherAuditAsync(ProxyInstance proxy) =>
        proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.PublisherVet || r.Action == AuditAction.PublisherRemove).OrderBy(r => r.Id).ToListAsync());

    [Fact]
    public async Task VetIsAuditedAndIdempotent_MalformedIs400_PolicyDeclaredIs409_RemoveIsAudited_UnknownIs404_ViewerIs403()
    {
        var (servers, _) = await StartAsync(Provider, $"approve: [pypi-attestations, sigstore]\npublishers:\n  sigstore: [\"{SigstorePublisher}\"]\n");
        await using var _s = servers;
        var proxy = servers.Proxy;
        var viewer = await proxy.CreateUserWithTokenAsync("vera", Roles.Viewer);
        const string Entry = PypiAttestationsPublisher + "@pypi";
        const string Malformed = "github:trailofbits/pypi-attestations";
        Assert.False(VettedPublisher.TryParse(Malformed, null, null, out _, out var parserMessage));

        var vet = await SendAsync(proxy, HttpMethod.Post, Path, new { publisher = Entry, until = "2027-12-31", reason = "checked the workflow and its environment" });
        var listed = await proxy.GetJsonAsync(Path);
        var again = await SendAsync(proxy, HttpMethod.Post, Path, new { publisher = Entry, until = "2027-12-31", reason = "once more" });
        var decisionsAfterAgain = await proxy.QueryAsync(db => db.PublisherDecisions.AsNoTracking().CountAsync());
        var malformed = await SendAsync(proxy, HttpMethod.Post, Path, new { publisher = Malformed, reason = "typo" });
        var policyVet = await SendAsync(proxy, HttpMethod.Post, "api/v1/projects/sigstore/publishers", new { publisher = SigstorePublisher, until = "2030-01-01", reason = "narrow it" });
        var policyRemove = await SendAsync(proxy, HttpMethod.Delete, "api/v1/projects/sigstore/publishers", new { publisher = SigstorePublisher, reason = "drop it" });
        var viewerVet = await SendAsync(proxy, HttpMethod.Post, Path, new { publisher = PypiAttestationsPublisher, reason = "me too" }, viewer);
        var viewerRemove = await SendAsync(proxy, HttpMethod.Delete, Path, new { publisher = Entry, reason = "me too" }, viewer);
        var viewerGet = await proxy.GetJsonAsync(Path, viewer);
        var remove = await SendAsync(proxy, HttpMethod.Delete, Path, new { publisher = Entry, reason = "they moved to another workflow" });
        var removeAgain = await SendAsync(proxy, HttpMethod.Delete, Path, new { publisher = Entry, reason = "twice" });
        var afterRemove = await proxy.GetJsonAsync(Path);
        var audit = await PublisherAuditAsync(proxy);

        Assert.Equal((HttpStatusCode.OK, $"{Entry} vetted for pypi-attestations"), vet);
        var held = Assert.Single(listed["vetted"]!.AsArray())!;
        Assert.Equal((Entry, "reviewer", "2027-12-31", "checked the workflow and its environment"), (held["publisher"].Text(), held["source"].Text(), held["until"].Text(), held["reason"].Text()));
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Contains("already vetted", again.Message, StringComparison.Ordinal);
        Assert.Equal(1, decisionsAfterAgain);
        Assert.Equal((HttpStatusCode.BadRequest, parserMessage), malformed);
        Assert.Equal((HttpStatusCode.Conflict, $"{SigstorePublisher} is declared for sigstore in a policy file; change it there"), policyVet);
        Assert.Equal((HttpStatusCode.Conflict, $"{SigstorePublisher} is declared for sigstore in a policy file; remove it there"), policyRemove);
        Assert.Equal(HttpStatusCode.Forbidden, viewerVet.Status);
        Assert.Equal(HttpStatusCode.Forbidden, viewerRemove.Status);
        Assert.Equal(Entry, viewerGet["vetted"]![0]!["publisher"].Text());
        Assert.Equal((HttpStatusCode.OK, $"{Entry} is no longer a vetted publisher of pypi-attestations"), remove);
        Assert.Equal((HttpStatusCode.NotFound, $"{Entry} is not a vetted publisher of pypi-attestations"), removeAgain);
        Assert.Empty(afterRemove["vetted"]!.AsArray());

        // One record per change, in the decision's transaction, with the entry and its dates in the reason.
        Assert.Equal([AuditAction.PublisherVet, AuditAction.PublisherRemove], audit.Select(r => r.Action));
        Assert.All(audit, r => Assert.Equal("project:pypi-attestations", r.Subject));
        Assert.Equal($"[{Entry}; from -; until 2027-12-31] checked the workflow and its environment", audit[0].Reason);
        Assert.Equal($"[{Entry}; from -; until -] they moved to another workflow", audit[1].Reason);
        var decisions = await proxy.QueryAsync(db => db.PublisherDecisions.AsNoTracking().OrderBy(d => d.Id).ToListAsync());
        Assert.Equal(audit.Select(r => (long?)r.Id), decisions.Select(d => d.AuditRecordId));
    }

    [Fact]
    public async Task Get_ShowsEachSeenPublisherWithTheFirstReleaseItAppearedIn_AndUnattestedReleases()
    {
        var (servers, _) = await StartAsync(Provider, $"approve: [pypi-attestations]\npublishers:\n  pypi-attestations: [\"{PypiAttestationsPublisher}\"]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations));
        upstream.AddFile("pypi-attestations", "pypi_attestations-0.0.20.tar.gz", SimilarSdist("no provenance"), NextUploadTime);
        await proxy.ObserveAsync("pypi-attestations");
        await proxy.Checks().CheckReleasesAsync("pypi-attestations", ["0.0.19", "0.0.20"], CancellationToken.None);

        var overview = await proxy.GetJsonAsync(Path);

        var vetted = Assert.Single(overview["vetted"]!.AsArray())!;
        Assert.Equal((PypiAttestationsPublisher, "policy"), (vetted["publisher"].Text(), vetted["source"].Text()));
        var seen = Assert.Single(overview["seen"]!.AsArray())!;
        Assert.Equal((PypiAttestationsPublisher, "GitHub", "0.0.19", true), (seen["publisher"].Text(), seen["kind"].Text(), seen["firstRelease"].Text(), seen["vetted"]!.GetValue<bool>()));
        Assert.Equal(["0.0.19"], seen["releases"]!.AsArray().Select(v => v.Text()));
        var releases = overview["releases"]!.AsArray();
        Assert.Equal(["0.0.20", "0.0.19"], releases.Select(r => r!["version"].Text()));
        Assert.Equal((0, 1, true), (releases[0]!["verified"]!.GetValue<int>(), releases[0]!["none"]!.GetValue<int>(), releases[0]!["unattested"]!.GetValue<bool>()));
        Assert.Equal((1, false), (releases[1]!["verified"]!.GetValue<int>(), releases[1]!["unattested"]!.GetValue<bool>()));
        Assert.Equal([PypiAttestationsPublisher], releases[1]!["publishers"]!.AsArray().Select(p => p.Text()));
    }

    [Fact]
    public async Task PublisherRowWrittenBehindTheApplicationsBack_GrantsNothing_AndRaisesAnUnverifiedDecisionIncident()
    {
        var (servers, clock) = await StartAsync(Provider, "approve: [pypi-attestations]\n");
        await using var _s = servers;
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        upstream.AddAttested("pypi-attestations", PypiAttestations, Document(PypiAttestations), PypiAttestationsUploadTime);
        await proxy.ObserveAsync("pypi-attestations");
        await proxy.Checks().CheckReleaseAsync("pypi-attestations", "0.0.19", CancellationToken.None);

        // Straight into the table: no audit record accounts for it.
        await proxy.QueryAsync(async db =>
        {
            db.PublisherDecisions.Add(new PublisherDecision
            {
                Project = "pypi-attestations",
                Publisher = PypiAttestationsPublisher,
                Action = PublisherActionText.Vet,
                Actor = "alice",
                Reason = "looks fine",
                DecidedAt = Start.UtcDateTime,
            });
            return await db.SaveChangesAsync();
        });
        clock.Advance(TimeSpan.FromDays(8));
        var outcome = await proxy.Auto().TryVetAsync("pypi-attestations", "0.0.19", CancellationToken.None);
        var overview = await proxy.GetJsonAsync(Path);
        var incidents = await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.UnverifiedDecision).ToListAsync());

        Assert.Equal((VetStatus.NotNow, "pypi-attestations has no vetted publisher"), (outcome.Status, outcome.Message));
        Assert.Empty(overview["vetted"]!.AsArray());
        Assert.False(overview["seen"]![0]!["vetted"]!.GetValue<bool>());
        var incident = Assert.Single(incidents);
        Assert.Equal("pypi-attestations", incident.Project);
        Assert.Contains(PypiAttestationsPublisher, incident.Detail, StringComparison.Ordinal);
        Assert.Empty(await proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().ToListAsync()));
    }
}

public sealed class PublishersApiIntegrationTestsOnSqlite : PublishersApiIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class PublishersApiIntegrationTestsOnPostgres : PublishersApiIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}
