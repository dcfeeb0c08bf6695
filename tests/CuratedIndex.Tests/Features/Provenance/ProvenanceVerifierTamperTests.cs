using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Provenance;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// PROVENANCE.md's tampered variants, each refused by the check named. The base is the real pypi_attestations-0.0.19
/// provenance with its real distribution unless noted; the unmodified base verifies (see the real fixture tests).
/// </summary>
public sealed class ProvenanceVerifierTamperTests
{
    private const string Dist = "pypi_attestations-0.0.19.tar.gz";
    private static readonly string DistSha256 = Sha256(Dist);

    private static JsonNode Base() => LoadJson("pypi_attestations-0.0.19.tar.gz.provenance");

    private static JsonNode Entry(JsonNode provenance) => FirstAttestation(provenance)["verification_material"]!["transparency_entries"]![0]!;

    private static ProvenanceVerification Verify(JsonNode provenance, string filename = Dist, string? sha256 = null, TrustedRoot? root = null, DateTimeOffset? now = null) =>
        ProvenanceVerifier.Verify(Encoding.UTF8.GetBytes(provenance.ToJsonString()), filename, sha256 ?? DistSha256, root ?? Production, now ?? Now);

    private static string FlipLastByte(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[^1] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }

    private static void AssertFails(ProvenanceVerification result, string phrase)
    {
        Assert.False(result.Verified);
        Assert.Empty(result.Attestations);
        Assert.Contains(phrase, result.Failure);
    }

    [Fact]
    public void Untampered_Verifies()
    {
        Assert.True(Verify(Base()).Verified);
    }

    [Fact]
    public void FlippedDsseSignatureByte_FailsDsseSignature()
    {
        var provenance = Base();
        var envelope = FirstAttestation(provenance)["envelope"]!;
        envelope["signature"] = FlipLastByte(envelope["signature"]!.GetValue<string>());

        AssertFails(Verify(provenance), "attestation 0: DSSE signature does not verify");
    }

    [Fact]
    public void SubjectDigestChangedInStatement_FailsDsseSignature()
    {
        var provenance = Base();
        var attestation = FirstAttestation(provenance);
        var statement = Statement(attestation);
        statement["subject"]![0]!["digest"]!["sha256"] = Sha256("sigstore-3.6.1.tar.gz");
        attestation["envelope"]!["statement"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(statement.ToJsonString()));

        AssertFails(Verify(provenance, sha256: Sha256("sigstore-3.6.1.tar.gz")), "DSSE signature does not verify");
    }

    [Fact]
    public void AnotherFilesDigest_FailsSubjectDigest()
    {
        AssertFails(Verify(Base(), sha256: Sha256("sigstore-3.6.1.tar.gz")), "attestation 0: subject sha256");
    }

    [Fact]
    public void SameBytesRenamed_FailsSubjectName()
    {
        AssertFails(Verify(Base(), filename: "pypi_attestations-0.0.20.tar.gz"), "attestation 0: subject name 'pypi_attestations-0.0.19.tar.gz' is not the file name");
    }

    [Fact]
    public void SwappedInAnotherRealFulcioLeaf_FailsCertificateNotValidAtSignedTime()
    {
        var provenance = Base();
        var other = FirstAttestation(LoadJson("sigstore-3.6.1.tar.gz.provenance"));
        FirstAttestation(provenance)["verification_material"]!["certificate"] = other["verification_material"]!["certificate"]!.DeepClone();

        AssertFails(Verify(provenance), "signing certificate is not valid at signed time");
    }

    [Fact]
    public void SwappedCertificateAndLogEntryForAnotherRealPair_FailsDsseSignature()
    {
        var provenance = Base();
        var other = FirstAttestation(LoadJson("sigstore-3.6.1.tar.gz.provenance"));
        FirstAttestation(provenance)["verification_material"] = other["verification_material"]!.DeepClone();

        AssertFails(Verify(provenance), "DSSE signature does not verify");
    }

    [Fact]
    public void BitFlippedInOneProofHash_FailsInclusionProof()
    {
        var provenance = Base();
        var hashes = Entry(provenance)["inclusionProof"]!["hashes"]!;
        hashes[0] = FlipLastByte(hashes[0]!.GetValue<string>());

        AssertFails(Verify(provenance), "attestation 0: inclusion proof does not reach the checkpoint's root hash");
    }

    [Fact]
    public void GlobalLogIndexUsedAsProofIndex_FailsInclusionProof()
    {
        var provenance = Base();
        var entry = Entry(provenance);
        entry["inclusionProof"]!["logIndex"] = entry["logIndex"]!.DeepClone();

        AssertFails(Verify(provenance), "inclusion proof index 153454663 is not inside the tree");
    }

    [Fact]
    public void FlippedCheckpointSignatureByte_FailsCheckpointSignature()
    {
        var provenance = Base();
        var checkpoint = Entry(provenance)["inclusionProof"]!["checkpoint"]!;
        var envelope = checkpoint["envelope"]!.GetValue<string>();
        var signatureStart = envelope.LastIndexOf(' ') + 1;
        checkpoint["envelope"] = envelope[..signatureStart] + FlipLastByte(envelope[signatureStart..^1]) + "\n";

        AssertFails(Verify(provenance), "checkpoint signature does not verify with the key of log rekor.sigstore.dev");
    }

    [Fact]
    public void ChangedCheckpointTreeSize_FailsCheckpointSize()
    {
        var provenance = Base();
        var checkpoint = Entry(provenance)["inclusionProof"]!["checkpoint"]!;
        var lines = checkpoint["envelope"]!.GetValue<string>().Split('\n');
        lines[1] = (long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        checkpoint["envelope"] = string.Join('\n', lines);

        AssertFails(Verify(provenance), "checkpoint tree size 31550403 is not the inclusion proof's tree size 31550402");
    }

    [Fact]
    public void FlippedSetByte_FailsSet()
    {
        var provenance = Base();
        var promise = Entry(provenance)["inclusionPromise"]!;
        promise["signedEntryTimestamp"] = FlipLastByte(promise["signedEntryTimestamp"]!.GetValue<string>());

        AssertFails(Verify(provenance), "signed entry timestamp (SET) does not verify");
    }

    [Fact]
    public void IntegratedTimeMovedBackOneHour_FailsSet()
    {
        var provenance = Base();
        var entry = Entry(provenance);
        entry["integratedTime"] = (long.Parse(entry["integratedTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) - 3600)
            .ToString(System.Globalization.CultureInfo.InvariantCulture);

        AssertFails(Verify(provenance), "signed entry timestamp (SET) does not verify");
    }

    [Fact]
    public void CanonicalizedBodyReserializedWithSpaces_FailsInclusionProof()
    {
        var provenance = Base();
        var entry = Entry(provenance);
        var body = JsonNode.Parse(Convert.FromBase64String(entry["canonicalizedBody"]!.GetValue<string>()))!;
        var spaced = body.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        entry["canonicalizedBody"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(spaced));

        AssertFails(Verify(provenance), "inclusion proof does not reach the checkpoint's root hash");
    }

    [Fact]
    public void UnknownLogId_FailsLogNotInTrustedRoot()
    {
        var provenance = Base();
        Entry(provenance)["logId"]!["keyId"] = Convert.ToBase64String(new byte[32]);

        AssertFails(Verify(provenance), "attestation 0: log id 0000000000000000000000000000000000000000000000000000000000000000 not in trusted root");
    }

    [Fact]
    public void PublisherWithWrongWorkflow_FailsBuildConfigUri()
    {
        var provenance = Base();
        provenance["attestation_bundles"]![0]!["publisher"]!["workflow"] = "wrong.yml";

        AssertFails(Verify(provenance), "publisher: certificate Build Config URI 'https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19' is not workflow 'wrong.yml'");
    }

    [Fact]
    public void PublisherWithOtherRepository_FailsSourceRepositoryUri()
    {
        var provenance = Base();
        provenance["attestation_bundles"]![0]!["publisher"]!["repository"] = "trailofbits/other";

        AssertFails(Verify(provenance), "publisher: certificate Source Repository URI 'https://github.com/trailofbits/pypi-attestations' is not the publisher repository");
    }

    [Fact]
    public void RepositoryCaseDiffers_FailsSourceRepositoryUri()
    {
        var provenance = Base();
        provenance["attestation_bundles"]![0]!["publisher"]!["repository"] = "TrailOfBits/pypi-attestations";

        AssertFails(Verify(provenance), "Source Repository URI");
    }

    [Fact]
    public void GitHubPublisherClaimedForGitLabCertificate_FailsIssuer()
    {
        var attestation = LoadJson("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
        var publisher = new JsonObject { ["kind"] = "GitHub", ["repository"] = "facutuesca/gitlab-oidc-project", ["workflow"] = ".gitlab-ci.yml" };

        var result = ProvenanceVerifier.Verify(Wrap(attestation, publisher), "gitlab_oidc_project-0.0.3.tar.gz", Sha256("gitlab_oidc_project-0.0.3.tar.gz"), Production, Now);

        AssertFails(result, "publisher: certificate issuer 'https://gitlab.com' is not GitHub Actions");
    }

    [Fact]
    public void GitLabPublisherWithOtherCiFile_FailsBuildConfigUri()
    {
        var attestation = LoadJson("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
        var publisher = PublisherProvenBy(attestation);
        publisher["workflow_filepath"] = "release.gitlab-ci.yml";

        var result = ProvenanceVerifier.Verify(Wrap(attestation, publisher), "gitlab_oidc_project-0.0.3.tar.gz", Sha256("gitlab_oidc_project-0.0.3.tar.gz"), Production, Now);

        AssertFails(result, "Build Config URI");
    }

    [Fact]
    public void GooglePublisherWithAnotherEmail_FailsSanEmail()
    {
        var attestation = LoadJson("sampleproject-3.0.0.tar.gz.publish.attestation");
        var publisher = new JsonObject { ["kind"] = "Google", ["email"] = "someone-else@developer.gserviceaccount.com" };

        var result = ProvenanceVerifier.Verify(Wrap(attestation, publisher), "sampleproject-3.0.0.tar.gz", Sha256("sampleproject-3.0.0.tar.gz"), Production, Now);

        AssertFails(result, "publisher: certificate SAN email (919436158236-compute@developer.gserviceaccount.com) is not the publisher email 'someone-else@developer.gserviceaccount.com'");
    }

    [Fact]
    public void ActiveStatePublisherKind_FailsUnsupportedKind()
    {
        var provenance = Base();
        provenance["attestation_bundles"]![0]!["publisher"] = new JsonObject { ["kind"] = "ActiveState", ["organization"] = "o", ["activestate_project_name"] = "p" };

        AssertFails(Verify(provenance), "attestation bundle 0: publisher kind 'ActiveState' is not supported");
    }

    [Fact]
    public void SignedTimeAfterTheClock_FailsSignedTimeAfterNow()
    {
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(1733354041);

        AssertFails(Verify(Base(), now: signedAt.AddMinutes(-6)), "attestation 0: signed time 2024-12-04T23:14:01.0000000+00:00 is after the verifier's clock");
        Assert.True(Verify(Base(), now: signedAt.AddMinutes(-4)).Verified, "within the 5-minute clock skew");
    }

    [Fact]
    public void StatedEnvironment_WithCertificateWithoutEnvironment_VerifiesUnproven()
    {
        var provenance = Base();
        provenance["attestation_bundles"]![0]!["publisher"]!["environment"] = "pypi";

        var result = Verify(provenance);

        Assert.True(result.Verified, result.Failure);
        var publisher = Assert.Single(result.Publishers);
        Assert.Equal("pypi", publisher.Environment);
        Assert.False(publisher.EnvironmentProven);
        Assert.Equal("github:trailofbits/pypi-attestations/.github/workflows/release.yml@pypi", publisher.Canonical);
    }

    [Fact]
    public void SecondAttestationTampered_FailsNamingAttestationOne()
    {
        var provenance = Base();
        var attestations = provenance["attestation_bundles"]![0]!["attestations"]!.AsArray();
        var second = LoadJson("pypi_attestations-0.0.19.tar.gz.slsa.attestation");
        var hashes = second["verification_material"]!["transparency_entries"]![0]!["inclusionProof"]!["hashes"]!;
        hashes[1] = FlipLastByte(hashes[1]!.GetValue<string>());
        attestations.Add(second);

        AssertFails(Verify(provenance), "attestation 1: inclusion proof does not reach the checkpoint's root hash");
    }

    [Fact]
    public void PublishAndSlsaAttestationsInOneBundle_BothVerified()
    {
        var provenance = Base();
        provenance["attestation_bundles"]![0]!["attestations"]!.AsArray().Add(LoadJson("pypi_attestations-0.0.19.tar.gz.slsa.attestation"));

        var result = Verify(provenance);

        Assert.True(result.Verified, result.Failure);
        Assert.Equal(["https://docs.pypi.org/attestations/publish/v1", "https://slsa.dev/provenance/v1"], result.Attestations.Select(a => a.PredicateType));
        Assert.Single(result.Publishers);
    }

    [Fact]
    public void Rekor2AttestationWithoutItsTimestamp_FailsNoSignedTime()
    {
        var attestation = LoadJson("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_rekor2_timestamp");
        attestation["verification_material"]!.AsObject().Remove("timestamps");

        var result = VerifyEmailIdentity(attestation, Staging);

        Assert.False(result.Verified);
        Assert.Contains("no signed time: neither a signed entry timestamp (SET) nor an RFC 3161 timestamp", result.Failure);
    }

    [Fact]
    public void Rekor2AttestationWithFlippedTimestampByte_FailsTimestampSignature()
    {
        var attestation = LoadJson("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_rekor2_timestamp");
        var timestamps = attestation["verification_material"]!["timestamps"]!;
        var token = Convert.FromBase64String(timestamps[0]!.GetValue<string>());
        // Flip the last seconds digit of the signed genTime (the first "2025" in the token): still a valid token, but
        // no longer the content the TSA signed.
        var genTime = token.AsSpan().IndexOf("2025"u8);
        token[genTime + 13] ^= 0x01;
        timestamps[0] = Convert.ToBase64String(token);

        var result = VerifyEmailIdentity(attestation, Staging);

        Assert.False(result.Verified);
        Assert.Contains("RFC 3161 timestamp token is malformed, or its embedded signer certificate does not verify it", result.Failure);
    }

    [Fact]
    public void Rekor2AttestationWithFlippedCheckpointSignature_FailsEd25519Checkpoint()
    {
        var attestation = LoadJson("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_rekor2_timestamp");
        var checkpoint = attestation["verification_material"]!["transparency_entries"]![0]!["inclusionProof"]!["checkpoint"]!;
        var envelope = checkpoint["envelope"]!.GetValue<string>();
        var signatureStart = envelope.LastIndexOf(' ') + 1;
        checkpoint["envelope"] = envelope[..signatureStart] + FlipLastByte(envelope[signatureStart..^1]) + "\n";

        var result = VerifyEmailIdentity(attestation, Staging);

        Assert.Contains("checkpoint signature does not verify with the key of log log2025-alpha3.rekor.sigstage.dev", result.Failure);
    }

    [Fact]
    public void TimestampOfAnotherSignature_FailsMessageImprint()
    {
        var attestation = LoadJson("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_timestamp");
        var rekor2 = LoadJson("pypi_attestations-0.0.19.tar.gz.publish.attestation.with_rekor2_timestamp");
        attestation["verification_material"]!["timestamps"] = rekor2["verification_material"]!["timestamps"]!.DeepClone();

        var result = VerifyEmailIdentity(attestation, Production);

        Assert.Contains("RFC 3161 timestamp is not over this signature", result.Failure);
    }

    private static BundleVerification VerifyEmailIdentity(JsonNode attestation, TrustedRoot root) =>
        ProvenanceVerifier.VerifyAttestation(Encoding.UTF8.GetBytes(attestation.ToJsonString()), Dist, DistSha256, root, Now,
            new ExpectedIdentity("jku@goto.fi", "https://github.com/login/oauth"));
}
