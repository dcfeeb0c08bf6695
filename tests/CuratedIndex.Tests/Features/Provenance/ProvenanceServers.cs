using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// A running proxy with a clock the test moves, in front of a fake PyPI serving the real attested distributions of
/// Fixtures/provenance with their real provenance (MANIFEST.md): pypi-attestations 0.0.19 and sigstore 3.6.1 (GitHub
/// publishers, PyPI's own provenance objects) and gitlab-oidc-project 0.0.3 (a bare attestation wrapped with the GitLab
/// publisher its certificate proves).
/// </summary>
internal static class ProvenanceServers
{
    /// <summary>After every fixture was signed (2024–2025): the verifier's clock may not be before the signed time.</summary>
    public static readonly DateTimeOffset Start = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    public const string PypiAttestations = "pypi_attestations-0.0.19.tar.gz";
    public const string Sigstore = "sigstore-3.6.1.tar.gz";
    public const string GitLab = "gitlab_oidc_project-0.0.3.tar.gz";

    public const string PypiAttestationsPublisher = "github:trailofbits/pypi-attestations/.github/workflows/release.yml";
    public const string SigstorePublisher = "github:sigstore/sigstore-python/.github/workflows/release.yml";
    public const string GitLabPublisher = "gitlab:facutuesca/gitlab-oidc-project/.gitlab-ci.yml";

    /// <summary>The Rekor entry of pypi-attestations 0.0.19's publish attestation (ProvenanceVerifierRealFixtureTests).</summary>
    public const long PypiAttestationsLogIndex = 153454663;

    /// <summary>Its signed time is 2024-12-04 23:14:01 UTC; PyPI recorded the upload seconds later.</summary>
    public const string PypiAttestationsUploadTime = "2024-12-04T23:14:05.000000Z";

    /// <summary>A stand-in sdist about as large as pypi-attestations 0.0.19's, so no size-changed signal fires beside the provenance ones.</summary>
    public static byte[] SimilarSdist(string text) => Encoding.UTF8.GetBytes(text.PadRight(29_000, '#'));

    public static async Task<(TestServers Servers, FakeTimeProvider Clock)> StartAsync(DatabaseProvider provider, string policy, IDictionary<string, string>? settings = null)
    {
        var clock = new FakeTimeProvider(Start);
        // Every page read revalidates upstream, so a file listed later shows on the next look. FakeTimeProvider.Advance runs
        // every periodic timer once per period it skips: the curation refresher (a database read per tick) ticks hourly, not
        // every 5 s, so moving the clock by a week costs 168 reads instead of 120,960.
        var all = new Dictionary<string, string>(StringComparer.Ordinal) { ["Upstream:PageMaxAge"] = "00:00:00", ["Review:RefreshInterval"] = "01:00:00" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var servers = await TestServers.StartAsync(provider, policy, all, configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        return (servers, clock);
    }

    /// <summary>The provenance object upstream serves for a fixture distribution, as text (FakePyPI serves it as UTF-8).</summary>
    public static string Document(string dist)
    {
        if (dist == GitLab)
        {
            var attestation = ProvenanceFixtures.LoadJson(GitLab + ".publish.attestation");
            return Encoding.UTF8.GetString(ProvenanceFixtures.Wrap(attestation, ProvenanceFixtures.PublisherProvenBy(attestation)));
        }

        return ProvenanceFixtures.Text(dist + ".provenance");
    }

    /// <summary>The document with one byte of its (first) DSSE signature flipped, everything else byte-for-byte the same.</summary>
    public static string FlipSignatureByte(string document)
    {
        var signature = ProvenanceFixtures.FirstAttestation(JsonNode.Parse(document)!)["envelope"]!["signature"]!.GetValue<string>();
        var bytes = Convert.FromBase64String(signature);
        bytes[^1] ^= 0x01;
        var flipped = Convert.ToBase64String(bytes);
        Assert.Equal(1, CountOf(document, signature));
        return document.Replace(signature, flipped, StringComparison.Ordinal);
    }

    /// <summary>What the pure verifier says about <paramref name="document"/> for the fixture's own bytes.</summary>
    public static ProvenanceVerification Verify(string document, string dist) =>
        ProvenanceVerifier.Verify(Encoding.UTF8.GetBytes(document), dist, ProvenanceFixtures.Sha256(dist), ProvenanceFixtures.Production, ProvenanceFixtures.Now);

    /// <summary>Lists the real fixture distribution with <paramref name="provenance"/> (null: none offered).</summary>
    public static FakeFile AddAttested(this FakePyPI upstream, string project, string dist, string? provenance, string uploadTime = "2024-01-02T03:04:05.123456Z")
    {
        var file = upstream.AddFile(project, dist, ProvenanceFixtures.Read(dist), uploadTime);
        file.Provenance = provenance;
        return file;
    }

    /// <summary>
    /// A tier 3 page request for <paramref name="project"/>: the release observer records upstream's files and first sights,
    /// as the upstream watch would (the provenance work it enqueues runs only where a job server does).
    /// </summary>
    public static async Task ObserveAsync(this ProxyInstance proxy, string project)
    {
        using var page = await proxy.Client.GetAsync($"prod/simple/{project}/");
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
    }

    /// <summary>Some days after pypi-attestations 0.0.19: no dormant-revived signal beside the provenance ones.</summary>
    public const string NextUploadTime = "2024-12-20T10:00:00.000000Z";

    public static Task<FileProvenance?> RowAsync(this ProxyInstance proxy, string filename) =>
        proxy.QueryAsync(db => db.FileProvenances.AsNoTracking().FirstOrDefaultAsync(p => p.Filename == filename));

    /// <summary>Polls the database until <paramref name="filename"/>'s provenance is stored, at most 30 s.</summary>
    public static async Task<FileProvenance?> WaitForRowAsync(this ProxyInstance proxy, string filename)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (await proxy.RowAsync(filename) is { } row || DateTime.UtcNow > deadline)
            {
                return await proxy.RowAsync(filename);
            }

            await Task.Delay(100);
        }
    }

    public static ProvenanceChecks Checks(this ProxyInstance proxy) => proxy.Services.GetRequiredService<ProvenanceChecks>();

    public static AutoVetting Auto(this ProxyInstance proxy) => proxy.Services.GetRequiredService<AutoVetting>();

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
