using System.Text.Json;
using CuratedIndex.Data;
using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>The pure per-file rule of automatic vetting: which stored result proves a vetted publisher, and when.</summary>
public sealed class AutoVettingFileProblemTests
{
    private static readonly PublisherIdentity Identity = new(PublisherKind.GitHub, "trailofbits/pypi-attestations", "release.yml", null);
    private static readonly DateTimeOffset Signed = new(2024, 12, 4, 23, 14, 1, TimeSpan.Zero);

    private static FileProvenance Verified(DateTimeOffset signedAt) => new()
    {
        Project = "pypi-attestations",
        Version = "0.0.19",
        Filename = "pypi_attestations-0.0.19.tar.gz",
        Sha256 = new string('a', 64),
        State = ProvenanceStateText.Verified,
        Evidence = JsonSerializer.Serialize(
            new[] { new AttestationEvidence("https://docs.pypi.org/attestations/publish/v1", 153454663, "rekor.sigstore.dev", signedAt, Identity, "refs/tags/v0.0.19", null) },
            ProvenanceChecks.EvidenceJson),
    };

    private static PublisherGrant Grant(DateOnly? from, DateOnly? until)
    {
        Assert.True(VettedPublisher.TryParse("github:trailofbits/pypi-attestations/.github/workflows/release.yml", from, until, out var publisher, out var error), error);
        return new PublisherGrant(publisher, "policy", "test", null);
    }

    [Fact]
    public void SignedAndUploadedWithinTheWindow_Matches()
    {
        var problem = AutoVetting.FileProblem("pypi-attestations", "pypi_attestations-0.0.19.tar.gz", "2024-12-04T23:14:05Z", Verified(Signed), [Grant(new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31))], out var match);

        Assert.Null(problem);
        Assert.Equal(153454663, match!.LogIndex);
    }

    [Fact]
    public void SignedAfterUntil_WhileUpstreamsUploadTimeClaimsWithin_DoesNotMatch()
    {
        // A mirror that lies about upload-time cannot move a file signed after the grant ended back into its window.
        var problem = AutoVetting.FileProblem("pypi-attestations", "pypi_attestations-0.0.19.tar.gz", "2024-06-01T00:00:00Z", Verified(new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero)), [Grant(null, new DateOnly(2024, 12, 31))], out _);

        Assert.Contains("not by a publisher vetted for pypi-attestations", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UploadedBeforeFrom_DoesNotMatch_EvenWhenSignedWithin()
    {
        var problem = AutoVetting.FileProblem("pypi-attestations", "pypi_attestations-0.0.19.tar.gz", "2023-12-31T23:00:00Z", Verified(Signed), [Grant(new DateOnly(2024, 1, 1), null)], out _);

        Assert.NotNull(problem);
    }
}
