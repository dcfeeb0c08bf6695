using CuratedIndex.Features.Provenance;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>Every row of PROVENANCE.md's "What verifies" table, through the verifier's entry points.</summary>
public sealed class ProvenanceVerifierRealFixtureTests
{
    private const string GitHubOAuth = "https://github.com/login/oauth";

    [Fact]
    public void PypiAttestations0019Provenance_VerifiesWithDistDigest_AsGitHubPublisher()
    {
        var result = ProvenanceVerifier.Verify(Read("pypi_attestations-0.0.19.tar.gz.provenance"),
            "pypi_attestations-0.0.19.tar.gz", Sha256("pypi_attestations-0.0.19.tar.gz"), Production, Now);

        Assert.True(result.Verified, result.Failure);
        var evidence = Assert.Single(result.Attestations);
        Assert.Equal(new PublisherIdentity(PublisherKind.GitHub, "trailofbits/pypi-attestations", "release.yml", null), evidence.Publisher);
        Assert.Equal("github:trailofbits/pypi-attestations/.github/workflows/release.yml", evidence.Publisher.Canonical);
        Assert.Equal("https://docs.pypi.org/attestations/publish/v1", evidence.PredicateType);
        Assert.Equal(153454663, evidence.LogIndex);
        Assert.Equal("rekor.sigstore.dev", evidence.LogOrigin);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1733354041), evidence.SignedAt);
        Assert.Equal("refs/tags/v0.0.19", evidence.SourceRef);
        Assert.Equal(40, evidence.SourceDigest!.Length);
        Assert.False(evidence.Publisher.EnvironmentProven);
    }

    [Fact]
    public void Sigstore361Provenance_VerifiesWithDistDigest_AsGitHubPublisher()
    {
        var result = ProvenanceVerifier.Verify(Read("sigstore-3.6.1.tar.gz.provenance"),
            "sigstore-3.6.1.tar.gz", Sha256("sigstore-3.6.1.tar.gz"), Production, Now);

        Assert.True(result.Verified, result.Failure);
        Assert.Equal("github:sigstore/sigstore-python/.github/workflows/release.yml", Assert.Single(result.Publishers).Canonical);
        Assert.Equal("refs/tags/v3.6.1", Assert.Single(result.Attestations).SourceRef);
    }

    [Fact]
    public void Sampleproject400Provenance_DistAbsent_VerifiesWithStatementDigest_EmptyEnvironmentIsNone()
    {
        var provenance = LoadJson("sampleproject-4.0.0.tar.gz.provenance");
        var result = ProvenanceVerifier.Verify(Read("sampleproject-4.0.0.tar.gz.provenance"),
            "sampleproject-4.0.0.tar.gz", StatementDigest(FirstAttestation(provenance)), Production, Now);

        Assert.True(result.Verified, result.Failure);
        var publisher = Assert.Single(result.Publishers);
        Assert.Equal(new PublisherIdentity(PublisherKind.GitHub, "pypa/sampleproject", "release.yml", null), publisher);
    }

    [Fact]
    public void Pep740Sampleproject100Provenance_DistAbsent_VerifiesWithStatementDigest_AsGitLabPublisher()
    {
        var provenance = LoadJson("pep740-sampleproject-1.0.0.tar.gz.provenance");
        var result = ProvenanceVerifier.Verify(Read("pep740-sampleproject-1.0.0.tar.gz.provenance"),
            "pep740_sampleproject-1.0.0.tar.gz", StatementDigest(FirstAttestation(provenance)), Production, Now);

        Assert.True(result.Verified, result.Failure);
        var evidence = Assert.Single(result.Attestations);
        Assert.Equal(new PublisherIdentity(PublisherKind.GitLab, "pep740-example/sampleproject", ".gitlab-ci.yml", null), evidence.Publisher);
        Assert.Equal("gitlab:pep740-example/sampleproject/.gitlab-ci.yml", evidence.Publisher.Canonical);
        Assert.Equal("refs/heads/main", evidence.SourceRef);
    }

    [Fact]
    public void GcbAttestationTestProvenance_DistAbsent_VerifiesWithStatementDigest_AsGooglePublisher()
    {
        var provenance = LoadJson("gcb_attestation_test-0.0.0.tar.gz.provenance");
        var result = ProvenanceVerifier.Verify(Read("gcb_attestation_test-0.0.0.tar.gz.provenance"),
            "gcb_attestation_test-0.0.0.tar.gz", StatementDigest(FirstAttestation(provenance)), Production, Now);

        Assert.True(result.Verified, result.Failure);
        var publisher = Assert.Single(result.Publishers);
        Assert.Equal(new PublisherIdentity(PublisherKind.Google, "919436158236-compute@developer.gserviceaccount.com", null, null), publisher);
        Assert.Equal("google:919436158236-compute@developer.gserviceaccount.com", publisher.Canonical);
    }

    [Theory]
    [InlineData("pypi_attestations-0.0.19.tar.gz.publish.attestation", "pypi_attestations-0.0.19.tar.gz", "https://docs.pypi.org/attestations/publish/v1")]
    [InlineData("pypi_attestations-0.0.19.tar.gz.slsa.attestation", "pypi_attestations-0.0.19.tar.gz", "https://slsa.dev/provenance/v1")]
    [InlineData("pypi_attestation_models-0.0.4a2.tar.gz.attestation", "pypi_attestation_models-0.0.4a2.tar.gz", "https://docs.pypi.org/attestations/publish/v1")]
    public void BareGitHubAttestation_WrappedWithItsPublisher_VerifiesWithDistDigest(string attestation, string dist, string predicateType)
    {
        var result = VerifyBare(attestation, dist, Sha256(dist), Production);

        Assert.True(result.Verified, result.Failure);
        var evidence = Assert.Single(result.Attestations);
        Assert.Equal(PublisherKind.GitHub, evidence.Publisher.Kind);
        Assert.Equal(predicateType, evidence.PredicateType);
    }

    [Fact]
    public void PypiAttestations0016Attestation_DistAbsent_WrappedWithItsPublisher_VerifiesWithStatementDigest()
    {
        var attestation = LoadJson("pypi_attestations-0.0.16.tar.gz.attestation");
        var result = VerifyBare("pypi_attestations-0.0.16.tar.gz.attestation", "pypi_attestations-0.0.16.tar.gz", StatementDigest(attestation), Production);

        Assert.True(result.Verified, result.Failure);
        Assert.Equal("github:trailofbits/pypi-attestations/.github/workflows/release.yml", Assert.Single(result.Publishers).Canonical);
    }

    [Fact]
    public void GitLabOidcProjectAttestation_WrappedWithItsGitLabPublisher_VerifiesWithDistDigest()
    {
        var result = VerifyBare("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation", "gitlab_oidc_project-0.0.3.tar.gz",
            Sha256("gitlab_oidc_project-0.0.3.tar.gz"), Production);

        Assert.True(result.Verified, result.Failure);
        Assert.Equal(new PublisherIdentity(PublisherKind.GitLab, "facutuesca/gitlab-oidc-project", ".gitlab-ci.yml", null), Assert.Single(result.Publishers));
    }

    [Fact]
    public void Sampleproject300Attestation_WrappedWithItsGooglePublisher_VerifiesWithDistDigest()
    {
        var result = VerifyBare("sampleproject-3.0.0.tar.gz.publish.attestation", "sampleproject-3.0.0.tar.gz",
            Sha256("sampleproject-3.0.0.tar.gz"), Production);

        Assert.True(result.Verified, result.Failure);
        Assert.Equal(PublisherKind.Google, Assert.Single(result.Publishers).Kind);
    }

    [Fact]
    public void PypiAttestations0019WithTimestamp_RekorV1PlusTsa_VerifiesForItsEmailIdentity()
    {
        var result = ProvenanceVerifier.VerifyAttestation(Read("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_timestamp"),
            "pypi_attestations-0.0.19.tar.gz", Sha256("pypi_attestations-0.0.19.tar.gz"), Production, Now,
            new ExpectedIdentity("jku@goto.fi", GitHubOAuth));

        Assert.True(result.Verified, result.Failure);
    }

    [Fact]
    public void PypiAttestations0019WithRekor2Timestamp_Ed25519CheckpointAndTsa_VerifiesAgainstStaging()
    {
        var result = ProvenanceVerifier.VerifyAttestation(Read("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_rekor2_timestamp"),
            "pypi_attestations-0.0.19.tar.gz", Sha256("pypi_attestations-0.0.19.tar.gz"), Staging, Now,
            new ExpectedIdentity("jku@goto.fi", GitHubOAuth));

        Assert.True(result.Verified, result.Failure);
    }

    [Fact]
    public void EmailIdentityAttestation_WrappedAsGooglePublisher_FailsOnIssuer()
    {
        // A GitHub OAuth e-mail identity is no trusted publisher: claiming it as Google is refused.
        var attestation = LoadJson("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_timestamp");
        var result = ProvenanceVerifier.Verify(Wrap(attestation, PublisherProvenBy(attestation)),
            "pypi_attestations-0.0.19.tar.gz", Sha256("pypi_attestations-0.0.19.tar.gz"), Production, Now);

        Assert.False(result.Verified);
        Assert.Contains("is not Google", result.Failure);
    }

    [Theory]
    [InlineData("rfc8785-0.1.2-py3-none-any.whl.attestation")]
    [InlineData("rfc8785-0.1.2-py3-none-any.whl.publish.attestation")]
    public void Rfc8785Attestation_StagingSigned_VerifiesAgainstStagingAndNotProduction(string attestation)
    {
        var sha256 = Sha256("rfc8785-0.1.2-py3-none-any.whl");
        var identity = new ExpectedIdentity("william@yossarian.net", GitHubOAuth);

        var staging = ProvenanceVerifier.VerifyAttestation(Read(attestation), "rfc8785-0.1.2-py3-none-any.whl", sha256, Staging, Now, identity);
        var production = ProvenanceVerifier.VerifyAttestation(Read(attestation), "rfc8785-0.1.2-py3-none-any.whl", sha256, Production, Now, identity);

        Assert.True(staging.Verified, staging.Failure);
        Assert.False(production.Verified);
        Assert.Contains("not in trusted root", production.Failure);
    }

    [Fact]
    public void Spt3gAttestation_StagingSigned_DistAbsent_VerifiesWithStatementDigestAgainstStagingAndNotProduction()
    {
        const string File = "spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl.publish.attestation";
        const string Dist = "spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
        var sha256 = StatementDigest(LoadJson(File));
        var identity = new ExpectedIdentity("william@yossarian.net", GitHubOAuth);

        var staging = ProvenanceVerifier.VerifyAttestation(Read(File), Dist, sha256, Staging, Now, identity);
        var production = ProvenanceVerifier.VerifyAttestation(Read(File), Dist, sha256, Production, Now, identity);

        Assert.True(staging.Verified, staging.Failure);
        Assert.Contains("not in trusted root", production.Failure);
    }

    [Fact]
    public void Rekor2TimestampAttestation_AgainstProduction_FailsLogNotInTrustedRoot()
    {
        var result = ProvenanceVerifier.VerifyAttestation(Read("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_rekor2_timestamp"),
            "pypi_attestations-0.0.19.tar.gz", Sha256("pypi_attestations-0.0.19.tar.gz"), Production, Now,
            new ExpectedIdentity("jku@goto.fi", GitHubOAuth));

        Assert.Contains("not in trusted root", result.Failure);
    }

    [Theory]
    [InlineData("pypi_attestations-0.0.19.tar.gz.provenance", "pypi_attestations-0.0.19.tar.gz")]
    [InlineData("sigstore-3.6.1.tar.gz.provenance", "sigstore-3.6.1.tar.gz")]
    public void ProductionProvenance_AgainstStagingRoot_FailsLogNotInTrustedRoot(string provenance, string dist)
    {
        var result = ProvenanceVerifier.Verify(Read(provenance), dist, Sha256(dist), Staging, Now);

        Assert.False(result.Verified);
        Assert.StartsWith("attestation 0: log id c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d not in trusted root", result.Failure);
    }

    [Fact]
    public void WithTimestampAttestation_AgainstStagingRoot_FailsLogNotInTrustedRoot()
    {
        var result = ProvenanceVerifier.VerifyAttestation(Read("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_timestamp"),
            "pypi_attestations-0.0.19.tar.gz", Sha256("pypi_attestations-0.0.19.tar.gz"), Staging, Now,
            new ExpectedIdentity("jku@goto.fi", GitHubOAuth));

        Assert.Contains("not in trusted root", result.Failure);
    }

    [Theory]
    [InlineData("pypi_attestation_models-0.0.4a2.tar.gz.sigstore", "pypi_attestation_models-0.0.4a2.tar.gz", "production",
        "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2", "https://token.actions.githubusercontent.com")]
    [InlineData("rfc8785-0.1.2-py3-none-any.whl.sigstore", "rfc8785-0.1.2-py3-none-any.whl", "staging", "william@yossarian.net", GitHubOAuth)]
    [InlineData("bundle_v3_github.whl.sigstore", "bundle_v3_github.whl", "production", null, null)]
    public void SigstoreBundleFixture_VerifiesOverItsArtifact(string bundle, string artifact, string root, string? san, string? issuer)
    {
        var result = SigstoreBundleVerifier.Verify(Read(bundle), Read(artifact), root == "staging" ? Staging : Production, Now,
            san is null ? null : new ExpectedIdentity(san, issuer!));

        Assert.True(result.Verified, result.Failure);
    }

    [Fact]
    public void BundleWithoutSignedTime_FailsNoSignedTime()
    {
        var result = SigstoreBundleVerifier.Verify(Read("bundle_v3_no_signed_time.txt.sigstore.json"), Read("bundle_v3_no_signed_time.txt"), Production, Now, null);

        Assert.False(result.Verified);
        Assert.Contains("no signed time", result.Failure);
    }

    [Fact]
    public void ShippedProductionTrustedRoot_IsTheFixtureAndParses()
    {
        var shipped = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "config", "sigstore", "trusted_root.json"));

        Assert.Equal(Read("trusted_root.production.json"), shipped);
        Assert.Equal(["rekor.sigstore.dev", "log2025-1.rekor.sigstore.dev"], TrustedRoot.Parse(shipped).LogOrigins);
    }
}
