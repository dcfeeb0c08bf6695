using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Provenance;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// The Fulcio path check against altered trusted roots. Staging's Fulcio certificates carry the same names as
/// production's (sigstore-intermediate, sigstore), so names alone would link them: only the signatures tell them apart.
/// </summary>
public sealed class CertificatePathTests
{
    private const string Dist = "pypi_attestations-0.0.19.tar.gz";

    private static JsonNode ProductionAuthority(JsonNode root) => root["certificateAuthorities"]![1]!;

    private static JsonNode StagingAuthority() => LoadJson("trusted_root.staging.json")["certificateAuthorities"]![0]!;

    private static ProvenanceVerification VerifyWith(JsonNode root) =>
        ProvenanceVerifier.Verify(Read(Dist + ".provenance"), Dist, Sha256(Dist),
            TrustedRoot.Parse(Encoding.UTF8.GetBytes(root.ToJsonString())), Now);

    [Fact]
    public void ProductionIntermediateUnderStagingRoot_FailsIntermediateSignature()
    {
        var root = LoadJson("trusted_root.production.json");
        ProductionAuthority(root)["certChain"]!["certificates"]![1] = StagingAuthority()["certChain"]!["certificates"]![1]!.DeepClone();

        var result = VerifyWith(root);

        Assert.False(result.Verified);
        Assert.Contains("does not chain to certificate authority https://fulcio.sigstore.dev: signature of 'CN=sigstore-intermediate, O=sigstore.dev' does not verify", result.Failure);
    }

    [Fact]
    public void StagingIntermediateWithTheSameName_FailsLeafSignature()
    {
        var root = LoadJson("trusted_root.production.json");
        ProductionAuthority(root)["certChain"]!["certificates"]![0] = StagingAuthority()["certChain"]!["certificates"]![0]!.DeepClone();

        var result = VerifyWith(root);

        Assert.False(result.Verified);
        Assert.Contains("signature of 'signing certificate' does not verify with the key of 'CN=sigstore-intermediate, O=sigstore.dev'", result.Failure);
    }

    [Fact]
    public void CertificateAuthorityValidityEndingBeforeTheSignedTime_Fails()
    {
        var root = LoadJson("trusted_root.production.json");
        ProductionAuthority(root)["validFor"]!["end"] = "2024-12-04T23:14:00Z";

        var result = VerifyWith(root);

        Assert.Contains("certificate authority https://fulcio.sigstore.dev is not valid at signed time 2024-12-04T23:14:01", result.Failure);
    }

    [Fact]
    public void CertificateAuthorityValidityEndingAtTheSignedTime_IsInclusive()
    {
        var root = LoadJson("trusted_root.production.json");
        ProductionAuthority(root)["validFor"]!["end"] = "2024-12-04T23:14:01Z";

        Assert.True(VerifyWith(root).Verified);
    }

    [Fact]
    public void RekorKeyValidityStartingAfterTheSignedTime_Fails()
    {
        var root = LoadJson("trusted_root.production.json");
        root["tlogs"]![0]!["publicKey"]!["validFor"]!["start"] = "2024-12-05T00:00:00Z";

        Assert.Contains("log rekor.sigstore.dev's key is not valid at signed time", VerifyWith(root).Failure);
    }

    [Fact]
    public void CtLogMissing_FailsSct()
    {
        var root = LoadJson("trusted_root.production.json");
        root["ctlogs"] = new JsonArray();

        Assert.Contains("attestation 0: SCT log id", VerifyWith(root).Failure);
    }
}
