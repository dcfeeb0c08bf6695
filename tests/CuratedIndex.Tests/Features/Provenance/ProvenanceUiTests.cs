using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// The Publishers section of the project page and the provenance on the release page and its API, over HTTP parsed with
/// AngleSharp. Provenance is stored through the real path: a fake PyPI serves the real sigstore 3.6.1 sdist with its real
/// provenance, and ProvenanceChecks fetches, verifies and stores it against the production trusted root.
/// </summary>
public sealed class ProvenanceUiTests
{
    private const string Project = "sigstore";
    private const string SigstorePublisher = "github:sigstore/sigstore-python/.github/workflows/release.yml";
    private const string PolicyPublisher = "google:release@acme-ci.iam.gserviceaccount.com";
    private const string Policy = "approve: [sigstore]\ncooldown:\n  sigstore: 0d\n";
    private const string Hostile = "<script>alert(1)</script>";

    /// <summary>
    /// sigstore 3.6.0 without provenance (unattested), 3.6.1 the real sdist with its real provenance (verified), 3.7.0 bytes
    /// its provenance does not name (failed). Sizes stay alike so no size signal fires.
    /// </summary>
    private static async Task<TestServers> StartAsync(string policy = Policy, string? provenance361 = null)
    {
        var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, policy, inProcess: true);
        var sdist = Read("sigstore-3.6.1.tar.gz");
        servers.Upstream.AddFile(Project, "sigstore-3.6.0.tar.gz", [.. sdist, (byte)'\n'], uploadTime: "2024-12-01T10:00:00.000000Z");
        servers.Upstream.AddFile(Project, "sigstore-3.6.1.tar.gz", sdist, uploadTime: "2024-12-10T10:00:00.000000Z").Provenance =
            provenance361 ?? Text("sigstore-3.6.1.tar.gz.provenance");
        servers.Upstream.AddFile(Project, "sigstore-3.7.0.tar.gz", [.. sdist, (byte)'\n', (byte)'\n'], uploadTime: "2025-01-10T10:00:00.000000Z").Provenance =
            Text("sigstore-3.6.1.tar.gz.provenance");
        return servers;
    }

    /// <summary>Records the releases (as any tier 3 request does), then fetches, verifies and stores every file's provenance.</summary>
    private static async Task CheckProvenanceAsync(TestServers servers)
    {
        (await servers.Proxy.Client.GetAsync($"prod/simple/{Project}/")).Dispose();
        await servers.Proxy.Services.GetRequiredService<ProvenanceChecks>().CheckReleasesAsync(Project, ["3.6.0", "3.6.1", "3.7.0"], CancellationToken.None);
    }

    private static Task<int> AuditCountAsync(TestServers servers, string action) =>
        servers.Proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action == action));

    [Fact]
    public async Task ProjectPage_ShowsSeenPublishersUnattestedAndFailedReleases_ToAViewerWithoutForms()
    {
        await using var servers = await StartAsync(Policy + $"publishers:\n  sigstore: [\"{PolicyPublisher}\"]\n");
        await CheckProvenanceAsync(servers);
        using var viewer = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);

        var (response, page, _) = await viewer.GetAsync($"ui/projects/{Project}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(page.QuerySelectorAll("#seen-publishers tr.seen-publisher"));
        Assert.Equal(SigstorePublisher, seen.GetAttribute("data-publisher"));
        Assert.Equal("no", seen.GetAttribute("data-vetted"));
        Assert.Equal("3.6.1", seen.QuerySelector(".first-release")!.TextContent);
        Assert.Equal("GitHub", seen.QuerySelectorAll("td")[1].TextContent);

        var policy = Assert.Single(page.QuerySelectorAll("#vetted-publishers tr.vetted-publisher"));
        Assert.Equal(PolicyPublisher, policy.GetAttribute("data-publisher"));
        Assert.Equal("policy file", policy.QuerySelector(".source")!.TextContent);
        Assert.Equal("Google service account release@acme-ci.iam.gserviceaccount.com", policy.QuerySelector(".describe")!.TextContent);

        var releases = page.QuerySelectorAll("#release-provenance tr.release-attestation").ToDictionary(r => r.GetAttribute("data-version")!, r => r);
        Assert.Equal(["3.7.0", "3.6.1", "3.6.0"], page.QuerySelectorAll("#release-provenance tr.release-attestation").Select(r => r.GetAttribute("data-version")!));
        Assert.Equal("unattested", releases["3.6.0"].GetAttribute("data-state"));
        Assert.NotNull(releases["3.6.0"].QuerySelector(".unattested"));
        Assert.Equal("attested", releases["3.6.1"].GetAttribute("data-state"));
        Assert.Contains(SigstorePublisher, releases["3.6.1"].TextContent, StringComparison.Ordinal);
        Assert.Equal("failed", releases["3.7.0"].GetAttribute("data-state"));
        Assert.StartsWith("sigstore-3.7.0.tar.gz: ", releases["3.7.0"].QuerySelector(".provenance-failure")!.TextContent, StringComparison.Ordinal);

        Assert.Null(page.QuerySelector("#vet-publisher-form"));
        Assert.Empty(page.QuerySelectorAll(".vet-seen-form, .remove-publisher-form"));
    }

    [Fact]
    public async Task ProjectPage_ReviewerVetsASeenPublisher_ThenRemovesIt_ThroughTheForms_Audited()
    {
        await using var servers = await StartAsync(Policy + $"publishers:\n  sigstore: [\"{PolicyPublisher}\"]\n");
        await CheckProvenanceAsync(servers);
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        var (_, before, _) = await reviewer.GetAsync($"ui/projects/{Project}");

        using var vet = await reviewer.SubmitAsync($"ui/projects/{Project}", ".vet-seen-form", ("PublisherReason", "the project's own release workflow"));
        var (_, vetted, _) = await reviewer.GetAsync(vet.Headers.Location!.OriginalString.TrimStart('/'));

        Assert.Null(before.QuerySelector($"tr.vetted-publisher[data-source=reviewer]"));
        // A policy-declared publisher is changed in its file: no remove button for it.
        Assert.Null(before.QuerySelector($"tr.vetted-publisher[data-publisher='{PolicyPublisher}'] form"));
        Assert.Equal(HttpStatusCode.Redirect, vet.StatusCode);
        Assert.Equal($"/ui/projects/{Project}?publishers=vetted#publishers", vet.Headers.Location!.OriginalString);
        Assert.Equal("Recorded: Publisher vetted.", vetted.QuerySelector("#publisher-done")!.TextContent);
        var row = vetted.QuerySelector($"tr.vetted-publisher[data-publisher='{SigstorePublisher}']")!;
        Assert.Equal("reviewer", row.GetAttribute("data-source"));
        Assert.StartsWith("reviewer rita", row.QuerySelector(".source")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("the project's own release workflow", row.QuerySelector(".reason")!.TextContent);
        Assert.Equal("GitHub workflow release.yml in sigstore/sigstore-python, any environment", row.QuerySelector(".describe")!.TextContent);
        Assert.Equal("yes", vetted.QuerySelector("tr.seen-publisher")!.GetAttribute("data-vetted"));
        Assert.Empty(vetted.QuerySelectorAll(".vet-seen-form"));
        Assert.Equal(1, await AuditCountAsync(servers, "publisher.vet"));

        using var remove = await reviewer.SubmitAsync(
            $"ui/projects/{Project}", $"tr.vetted-publisher[data-publisher='{SigstorePublisher}'] .remove-publisher-form", ("PublisherReason", "moved to trusted publishing with an environment"));
        var (_, removed, _) = await reviewer.GetAsync(remove.Headers.Location!.OriginalString.TrimStart('/'));

        Assert.Equal(HttpStatusCode.Redirect, remove.StatusCode);
        Assert.Equal("Recorded: Publisher removed.", removed.QuerySelector("#publisher-done")!.TextContent);
        Assert.Null(removed.QuerySelector($"tr.vetted-publisher[data-publisher='{SigstorePublisher}']"));
        Assert.Equal("no", removed.QuerySelector("tr.seen-publisher")!.GetAttribute("data-vetted"));
        Assert.Equal(1, await AuditCountAsync(servers, "publisher.remove"));
        var decisions = await servers.Proxy.QueryAsync(db => db.PublisherDecisions.OrderBy(d => d.Id).Select(d => d.Action + " " + d.Actor + " " + d.Publisher).ToListAsync());
        Assert.Equal([$"vet rita {SigstorePublisher}", $"remove rita {SigstorePublisher}"], decisions);
    }

    [Fact]
    public async Task ProjectPage_VetFormWithDates_IsRecorded_AndRefusalsShowTheReasonAndChangeNothing()
    {
        await using var servers = await StartAsync(Policy + $"publishers:\n  sigstore: [\"{PolicyPublisher}\"]\n");
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        var path = $"ui/projects/{Project}";

        async Task<(HttpStatusCode Status, string? Problem)> VetAsync(string publisher, string from, string until, string reason)
        {
            using var response = await reviewer.SubmitAsync(path, "#vet-publisher-form", ("Publisher", publisher), ("PublisherFrom", from), ("PublisherUntil", until), ("PublisherReason", reason));
            var page = await UiSession.ParseAsync(await response.Content.ReadAsStringAsync());
            return (response.StatusCode, page.QuerySelector("#publisher-problem")?.TextContent);
        }

        var badEntry = await VetAsync("github:sigstore/sigstore-python", "", "", "no workflow");
        var badDate = await VetAsync(SigstorePublisher, "next tuesday", "", "a date that is not one");
        var backwards = await VetAsync(SigstorePublisher, "2026-01-01", "2025-01-01", "until before from");
        var noReason = await VetAsync(SigstorePublisher, "", "", "   ");
        var policyDeclared = await VetAsync(PolicyPublisher, "2025-01-01", "", "a narrower window");
        var auditBefore = await servers.Proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action.StartsWith("publisher.")));
        var withDates = await VetAsync("gitlab:acme/sigstore/.gitlab-ci.yml@release", "2025-01-01", "2025-12-31", "the GitLab mirror, for 2025");
        var (_, page, _) = await reviewer.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, badEntry.Status);
        Assert.False(string.IsNullOrWhiteSpace(badEntry.Problem));
        Assert.Equal((HttpStatusCode.BadRequest, "'from' must be a date written yyyy-mm-dd"), badDate);
        Assert.Equal(HttpStatusCode.BadRequest, backwards.Status);
        Assert.False(string.IsNullOrWhiteSpace(backwards.Problem));
        Assert.Equal(HttpStatusCode.BadRequest, noReason.Status);
        Assert.Equal(HttpStatusCode.Conflict, policyDeclared.Status);
        Assert.Equal($"{PolicyPublisher} is declared for {Project} in a policy file; change it there", policyDeclared.Problem);
        Assert.Equal(0, auditBefore);
        Assert.Equal((HttpStatusCode.Redirect, (string?)null), withDates);
        var row = page.QuerySelector("tr.vetted-publisher[data-publisher='gitlab:acme/sigstore/.gitlab-ci.yml@release']")!;
        Assert.Equal("GitLab CI configuration acme/sigstore/.gitlab-ci.yml, environment release, from 2025-01-01 until 2025-12-31", row.QuerySelector(".describe")!.TextContent);
        Assert.Equal(["2025-01-01", "2025-12-31"], row.QuerySelectorAll("td").Skip(2).Take(2).Select(c => c.TextContent));
        Assert.Equal(1, await AuditCountAsync(servers, "publisher.vet"));
    }

    [Fact]
    public async Task ProjectPage_RefusedVetForm_IsShownAgainWithWhatWasTyped()
    {
        await using var servers = await StartAsync();
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        using var response = await reviewer.SubmitAsync($"ui/projects/{Project}", "#vet-publisher-form", ("Publisher", SigstorePublisher), ("PublisherFrom", "2025-01-01"), ("PublisherReason", ""));
        var page = await UiSession.ParseAsync(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SigstorePublisher, page.QuerySelector("#Publisher")!.GetAttribute("value"));
        Assert.Equal("2025-01-01", page.QuerySelector("#PublisherFrom")!.GetAttribute("value"));
        Assert.NotNull(page.QuerySelector("#publisher-problem"));
    }

    [Fact]
    public async Task ProjectPage_ViewerPostAndForgedPost_AreRefusedAndRecordNothing()
    {
        await using var servers = await StartAsync();
        await CheckProvenanceAsync(servers);
        using var viewer = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        await servers.Proxy.PostJsonAsync($"api/v1/projects/{Project}/publishers", new { publisher = "github:acme/sigstore/.github/workflows/release.yml", reason = "to be removed" });
        var before = await servers.Proxy.QueryAsync(db => db.PublisherDecisions.CountAsync());

        // A viewer's valid antiforgery token (from the sign-out form) does not make a viewer a reviewer.
        var token = await viewer.TokenFromAsync($"ui/projects/{Project}");
        using var viewerVet = await viewer.PostAsync($"ui/projects/{Project}?handler=VetPublisher",
            [new("__RequestVerificationToken", token), new("Publisher", SigstorePublisher), new("PublisherReason", "sneaky")]);
        using var viewerRemove = await viewer.PostAsync($"ui/projects/{Project}?handler=RemovePublisher",
            [new("__RequestVerificationToken", token), new("Publisher", "github:acme/sigstore/.github/workflows/release.yml"), new("PublisherReason", "sneaky")]);
        // A reviewer's post without the token (what another site could make the browser send) is refused too.
        using var forgedVet = await reviewer.PostAsync($"ui/projects/{Project}?handler=VetPublisher", [new("Publisher", SigstorePublisher), new("PublisherReason", "forged")]);
        using var forgedRemove = await reviewer.PostAsync($"ui/projects/{Project}?handler=RemovePublisher",
            [new("Publisher", "github:acme/sigstore/.github/workflows/release.yml"), new("PublisherReason", "forged")]);

        foreach (var response in new[] { viewerVet, viewerRemove })
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/ui/denied", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.BadRequest, forgedVet.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forgedRemove.StatusCode);
        Assert.Equal(1, before);
        Assert.Equal(1, await servers.Proxy.QueryAsync(db => db.PublisherDecisions.CountAsync()));
    }

    [Fact]
    public async Task ProjectAndReleasePages_HostilePublisherFromUpstream_IsEscaped()
    {
        // Upstream's provenance names a publisher whose repository is markup: verification fails, and the reason quotes it.
        var provenance = JsonNode.Parse(Text("sigstore-3.6.1.tar.gz.provenance"))!;
        provenance["attestation_bundles"]![0]!["publisher"]!["repository"] = Hostile;
        await using var servers = await StartAsync(provenance361: provenance.ToJsonString());
        await CheckProvenanceAsync(servers);
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        // A reviewer's reason is untrusted text as well.
        await servers.Proxy.PostJsonAsync($"api/v1/projects/{Project}/publishers", new { publisher = SigstorePublisher, reason = "<script>alert(2)</script>" });
        // An entry that is markup is refused, and the refusal shows it as text.
        using var refused = await reviewer.SubmitAsync($"ui/projects/{Project}", "#vet-publisher-form", ("Publisher", $"github:{Hostile}/.github/workflows/x.yml"), ("PublisherReason", "hostile"));
        var refusedHtml = await refused.Content.ReadAsStringAsync();

        var (_, project, projectHtml) = await reviewer.GetAsync($"ui/projects/{Project}");
        var (_, release, releaseHtml) = await reviewer.GetAsync($"ui/projects/{Project}/releases/3.6.1");

        var stored = await servers.Proxy.QueryAsync(db => db.FileProvenances.SingleAsync(p => p.Filename == "sigstore-3.6.1.tar.gz"));
        Assert.Equal("failed", stored.State);
        Assert.Contains(Hostile, stored.Failure, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.DoesNotContain("<script>", refusedHtml, StringComparison.OrdinalIgnoreCase);
        foreach (var (document, html) in new[] { (project, projectHtml), (release, releaseHtml) })
        {
            Assert.Empty(document.QuerySelectorAll("script"));
            Assert.DoesNotContain("<script>", html, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains(Hostile, project.QuerySelector("tr.release-attestation[data-version='3.6.1'] .provenance-failure")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("<script>alert(2)</script>", project.QuerySelector("tr.vetted-publisher .reason")!.TextContent);
        Assert.Contains(Hostile, release.QuerySelector("tr.file-provenance[data-file='sigstore-3.6.1.tar.gz'] .provenance-failure")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(Hostile, release.QuerySelector("li.signal[data-kind='provenance-failed']")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleasePage_ShowsEachFilesStoredProvenance_AndWhyAutomaticVettingWouldOrWouldNotVet()
    {
        await using var servers = await StartAsync();
        using var viewer = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);

        var (_, unchecked361, _) = await viewer.GetAsync($"ui/projects/{Project}/releases/3.6.1");
        await CheckProvenanceAsync(servers);
        var (_, withoutPublishers, _) = await viewer.GetAsync($"ui/projects/{Project}/releases/3.6.1");
        await servers.Proxy.PostJsonAsync($"api/v1/projects/{Project}/publishers", new { publisher = SigstorePublisher, reason = "the release workflow" });
        var (_, verified, _) = await viewer.GetAsync($"ui/projects/{Project}/releases/3.6.1");
        var (_, failed, _) = await viewer.GetAsync($"ui/projects/{Project}/releases/3.7.0");
        var (_, none, _) = await viewer.GetAsync($"ui/projects/{Project}/releases/3.6.0");

        Assert.Equal("not-checked", unchecked361.QuerySelector("tr.file-provenance")!.GetAttribute("data-state"));
        Assert.Equal("not checked yet", unchecked361.QuerySelector("tr.file-provenance .provenance-state")!.TextContent);
        Assert.NotNull(withoutPublishers.QuerySelector("#auto-not-applicable"));

        var file = verified.QuerySelector("tr.file-provenance[data-file='sigstore-3.6.1.tar.gz']")!;
        Assert.Equal("verified", file.GetAttribute("data-state"));
        var attestation = Assert.Single(file.QuerySelectorAll(".attestation"));
        Assert.Equal(SigstorePublisher, attestation.QuerySelector(".attestation-publisher")!.TextContent);
        Assert.Matches(@"^rekor\.sigstore\.dev entry \d+$", attestation.QuerySelector(".attestation-log")!.TextContent);
        Assert.Matches(@"^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC$", attestation.QuerySelector(".attestation-signed")!.TextContent);
        Assert.Equal("refs/tags/v3.6.1", attestation.QuerySelector(".attestation-ref")!.TextContent);
        Assert.NotNull(verified.QuerySelector("#auto-would-vet"));
        Assert.Equal(SigstorePublisher, verified.QuerySelector("li.auto-publisher")!.GetAttribute("data-publisher"));

        Assert.Equal("failed", failed.QuerySelector("tr.file-provenance")!.GetAttribute("data-state"));
        Assert.False(string.IsNullOrWhiteSpace(failed.QuerySelector("tr.file-provenance .provenance-failure")!.TextContent));
        var reasons = failed.QuerySelectorAll("#auto-reasons li").Select(l => l.TextContent).ToList();
        Assert.Contains(reasons, r => r.StartsWith("'sigstore-3.7.0.tar.gz': provenance failed (", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("provenance-failed", StringComparison.Ordinal));
        Assert.Contains("failed provenance verification", failed.QuerySelector("li.signal[data-kind='provenance-failed']")!.TextContent, StringComparison.Ordinal);

        Assert.Equal("none", none.QuerySelector("tr.file-provenance")!.GetAttribute("data-state"));
        Assert.Contains("'sigstore-3.6.0.tar.gz': provenance none", none.QuerySelector("#auto-reasons")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleaseApi_GivesEachFilesProvenance_AndTheAutomaticVettingOutlook()
    {
        await using var servers = await StartAsync();
        var notChecked = await servers.Proxy.GetJsonAsync($"api/v1/projects/{Project}/releases/3.6.1");
        await CheckProvenanceAsync(servers);
        await servers.Proxy.PostJsonAsync($"api/v1/projects/{Project}/publishers", new { publisher = SigstorePublisher, reason = "the release workflow" });

        var verified = await servers.Proxy.GetJsonAsync($"api/v1/projects/{Project}/releases/3.6.1");
        var failed = await servers.Proxy.GetJsonAsync($"api/v1/projects/{Project}/releases/3.7.0");

        Assert.Equal("not-checked", notChecked["files"]![0]!["provenance"]!["state"].Text());
        Assert.Null(notChecked["autoVetting"]);
        var provenance = verified["files"]![0]!["provenance"]!;
        Assert.Equal("verified", provenance["state"].Text());
        var attestation = Assert.Single(provenance["attestations"]!.AsArray())!;
        Assert.Equal(SigstorePublisher, attestation["publisher"].Text());
        Assert.Equal("GitHub", attestation["kind"].Text());
        Assert.Equal("rekor.sigstore.dev", attestation["logOrigin"].Text());
        Assert.True(attestation["logIndex"].Number() > 0);
        Assert.Equal("refs/tags/v3.6.1", attestation["sourceRef"].Text());
        Assert.NotNull(attestation["signedAt"]);
        Assert.True(verified["autoVetting"]!["wouldVet"]!.GetValue<bool>());
        Assert.Equal(SigstorePublisher, verified["autoVetting"]!["publishers"]![0]!["publisher"].Text());
        Assert.Equal("reviewer", verified["autoVetting"]!["publishers"]![0]!["source"].Text());

        Assert.Equal("failed", failed["files"]![0]!["provenance"]!["state"].Text());
        Assert.False(string.IsNullOrEmpty(failed["files"]![0]!["provenance"]!["failure"].Text()));
        Assert.False(failed["autoVetting"]!["wouldVet"]!.GetValue<bool>());
        Assert.NotEmpty(failed["autoVetting"]!["wouldNot"]!.AsArray());
        // Showing the release checked nothing and vetted nothing.
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync()));
    }

    [Fact]
    public async Task AutomaticVetting_VetsTheReleaseThePageSaidItWould()
    {
        await using var servers = await StartAsync();
        await CheckProvenanceAsync(servers);
        await servers.Proxy.PostJsonAsync($"api/v1/projects/{Project}/publishers", new { publisher = SigstorePublisher, reason = "the release workflow" });
        var said = await servers.Proxy.GetJsonAsync($"api/v1/projects/{Project}/releases/3.6.1");
        var saidNot = await servers.Proxy.GetJsonAsync($"api/v1/projects/{Project}/releases/3.7.0");

        var auto = servers.Proxy.Services.GetRequiredService<AutoVetting>();
        var vetted = await auto.TryVetAsync(Project, "3.6.1", CancellationToken.None);
        var held = await auto.TryVetAsync(Project, "3.7.0", CancellationToken.None);

        Assert.True(said["autoVetting"]!["wouldVet"]!.GetValue<bool>());
        Assert.Equal(CuratedIndex.Features.Releases.VetStatus.Vetted, vetted.Status);
        Assert.False(saidNot["autoVetting"]!["wouldVet"]!.GetValue<bool>());
        // Automatic vetting adds the release's signals to the page's reason.
        Assert.StartsWith(saidNot["autoVetting"]!["wouldNot"]![0].Text(), held.Message, StringComparison.Ordinal);
    }
}
