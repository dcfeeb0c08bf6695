using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Provenance;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>Hostile or broken provenance documents give a Failed verdict with a reason, never an exception.</summary>
public sealed class ProvenanceHostileInputTests
{
    private const string Dist = "pypi_attestations-0.0.19.tar.gz";
    private static readonly string DistSha256 = Sha256(Dist);

    private static ProvenanceVerification Verify(byte[] document) => ProvenanceVerifier.Verify(document, Dist, DistSha256, Production, Now);

    private static ProvenanceVerification Verify(JsonNode document) => Verify(Encoding.UTF8.GetBytes(document.ToJsonString()));

    private static JsonNode Base() => LoadJson("pypi_attestations-0.0.19.tar.gz.provenance");

    private static JsonNode Attestation(JsonNode provenance) => FirstAttestation(provenance);

    private static JsonNode Entry(JsonNode provenance) => Attestation(provenance)["verification_material"]!["transparency_entries"]![0]!;

    [Theory]
    [InlineData(0, "provenance is not valid JSON")]
    [InlineData(1, "provenance is not valid JSON")]
    [InlineData(100, "provenance is not valid JSON")]
    [InlineData(2000, "provenance is not valid JSON")]
    public void TruncatedDocument_FailsNotJson(int length, string reason)
    {
        var document = Read("pypi_attestations-0.0.19.tar.gz.provenance")[..length];

        var result = Verify(document);

        Assert.False(result.Verified);
        Assert.Contains(reason, result.Failure);
    }

    [Theory]
    [InlineData("null", "provenance version is not 1")]
    [InlineData("[]", "provenance version is not 1")]
    [InlineData("\"text\"", "provenance version is not 1")]
    [InlineData("{\"version\":2,\"attestation_bundles\":[]}", "provenance version is not 1")]
    [InlineData("{\"version\":\"1\",\"attestation_bundles\":[]}", "provenance version is not 1")]
    [InlineData("{\"version\":1e400,\"attestation_bundles\":[]}", "provenance version is not 1")]
    [InlineData("{\"version\":1,\"version\":2,\"attestation_bundles\":[]}", "provenance is not valid JSON")]
    [InlineData("{\"version\":1,\"attestation_bundles\":{}}", "'attestation_bundles' must be an array")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[]}", "provenance has no attestation bundles")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[1]}", "attestation bundle 0 must be an object")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[{\"publisher\":{\"kind\":7},\"attestations\":[]}]}", "'kind' must be a string")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[{\"publisher\":{\"kind\":\"GitHub\"},\"attestations\":[]}]}", "attestation bundle 0 has no attestations")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[{\"publisher\":{\"kind\":\"GitHub\"},\"attestations\":[null]}]}", "attestation 0: attestation must be an object")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[{\"publisher\":{\"kind\":\"GitHub\"},\"attestations\":[{\"version\":\"1\"}]}]}", "attestation 0: attestation version is not 1")]
    [InlineData("{\"version\":1,\"attestation_bundles\":[{\"publisher\":{\"kind\":\"GitHub\"},\"attestations\":[{\"version\":1,\"envelope\":{}}]}]}", "attestation 0: attestation: 'verification_material' must be an object")]
    public void WrongShapes_FailWithReason(string document, string reason)
    {
        var result = Verify(Encoding.UTF8.GetBytes(document));

        Assert.False(result.Verified);
        Assert.Contains(reason, result.Failure);
    }

    [Fact]
    public void DuplicatePublisherKey_FailsNotJson()
    {
        // Read one way here and another by whoever reads the stored copy: refused outright.
        var text = Text("pypi_attestations-0.0.19.tar.gz.provenance");
        var duplicated = text.Replace("\"publisher\":{", "\"publisher\":{\"kind\":\"GitHub\",\"repository\":\"evil/repo\",\"workflow\":\"x.yml\"},\"publisher\":{", StringComparison.Ordinal);
        Assert.NotEqual(text, duplicated);

        Assert.Contains("provenance is not valid JSON", Verify(Encoding.UTF8.GetBytes(duplicated)).Failure);
    }

    [Fact]
    public void DeeplyNestedDocument_FailsNotJson()
    {
        var document = Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000));

        Assert.Contains("provenance is not valid JSON", Verify(document).Failure);
    }

    [Fact]
    public void OversizedDocument_FailsBeforeParsing()
    {
        var document = new byte[ProvenanceVerifier.MaxDocumentBytes + 1];

        Assert.Contains("provenance document is larger than", Verify(document).Failure);
    }

    [Fact]
    public void TooManyBundles_Fails()
    {
        var provenance = Base();
        var bundles = provenance["attestation_bundles"]!.AsArray();
        var bundle = bundles[0]!;
        for (var i = 0; i < ProvenanceVerifier.MaxBundles; i++)
        {
            bundles.Add(bundle.DeepClone());
        }

        Assert.Contains("more than 16 attestation bundles", Verify(provenance).Failure);
    }

    [Fact]
    public void TooManyAttestations_Fails()
    {
        var provenance = Base();
        var attestations = provenance["attestation_bundles"]![0]!["attestations"]!.AsArray();
        var attestation = attestations[0]!;
        for (var i = 0; i < ProvenanceVerifier.MaxAttestations; i++)
        {
            attestations.Add(attestation.DeepClone());
        }

        Assert.Contains("more than 16 attestations", Verify(provenance).Failure);
    }

    [Theory]
    [InlineData("99999999999999999999999")]
    [InlineData("-5")]
    [InlineData("1e300")]
    [InlineData("abc")]
    public void HugeOrBadTreeSize_FailsWithReason(string treeSize)
    {
        var provenance = Base();
        Entry(provenance)["inclusionProof"]!["treeSize"] = treeSize;

        var result = Verify(provenance);

        Assert.False(result.Verified);
        Assert.StartsWith("attestation 0: ", result.Failure);
    }

    [Fact]
    public void HugeNumericLogIndex_FailsWithReason()
    {
        var provenance = Base();
        Entry(provenance)["logIndex"] = JsonNode.Parse("1e308");

        Assert.Contains("'logIndex' must be a 64-bit integer", Verify(provenance).Failure);
    }

    [Fact]
    public void HugeIntegratedTime_FailsSet()
    {
        var provenance = Base();
        Entry(provenance)["integratedTime"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Contains("attestation 0: ", Verify(provenance).Failure);
    }

    [Theory]
    [InlineData("certificate", "'certificate' is not valid base64")]
    [InlineData("statement", "'statement' is not valid base64")]
    [InlineData("signature", "'signature' is not valid base64")]
    [InlineData("canonicalizedBody", "'canonicalizedBody' is not valid base64")]
    [InlineData("rootHash", "'rootHash' is not valid base64")]
    [InlineData("hash", "inclusion proof hash is not valid base64")]
    [InlineData("signedEntryTimestamp", "'signedEntryTimestamp' is not valid base64")]
    public void BadBase64_FailsNamingTheField(string field, string reason)
    {
        var provenance = Base();
        var attestation = Attestation(provenance);
        var entry = Entry(provenance);
        const string Bad = "not*base64!";
        switch (field)
        {
            case "certificate": attestation["verification_material"]!["certificate"] = Bad; break;
            case "statement": attestation["envelope"]!["statement"] = Bad; break;
            case "signature": attestation["envelope"]!["signature"] = Bad; break;
            case "canonicalizedBody": entry["canonicalizedBody"] = Bad; break;
            case "rootHash": entry["inclusionProof"]!["rootHash"] = Bad; break;
            case "hash": entry["inclusionProof"]!["hashes"]![0] = Bad; break;
            default: entry["inclusionPromise"]!["signedEntryTimestamp"] = Bad; break;
        }

        var result = Verify(provenance);

        Assert.False(result.Verified);
        Assert.Contains(reason, result.Failure);
    }

    [Fact]
    public void CertificateNotDer_FailsCertificate()
    {
        var provenance = Base();
        Attestation(provenance)["verification_material"]!["certificate"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("not a certificate"));

        Assert.Contains("attestation 0: signing certificate is not a DER X.509 certificate", Verify(provenance).Failure);
    }

    [Fact]
    public void StatementNotJson_FailsAtTheSignatureFirst()
    {
        // The statement is covered by the signature, so garbage there is a signature failure, never a parse crash.
        var provenance = Base();
        Attestation(provenance)["envelope"]!["statement"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"_type\":"));

        Assert.Contains("DSSE signature does not verify", Verify(provenance).Failure);
    }

    [Fact]
    public void CheckpointWithoutBlankLine_FailsCheckpoint()
    {
        var provenance = Base();
        Entry(provenance)["inclusionProof"]!["checkpoint"]!["envelope"] = "rekor.sigstore.dev - 1\n1\nAAAA\n";

        Assert.Contains("checkpoint must have exactly one blank line", Verify(provenance).Failure);
    }

    [Fact]
    public void TwoTransparencyEntries_Fails()
    {
        var provenance = Base();
        var entries = Attestation(provenance)["verification_material"]!["transparency_entries"]!.AsArray();
        entries.Add(entries[0]!.DeepClone());

        Assert.Contains("attestation 0: attestation has 2 transparency entries, not exactly one", Verify(provenance).Failure);
    }

    [Fact]
    public void UnsupportedEntryKind_Fails()
    {
        var provenance = Base();
        Entry(provenance)["kindVersion"]!["kind"] = "intoto";

        Assert.Contains("transparency entry kind intoto/0.0.1 is not supported", Verify(provenance).Failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ABC")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public void BadSha256Argument_Fails(string sha256)
    {
        var result = ProvenanceVerifier.Verify(Read("pypi_attestations-0.0.19.tar.gz.provenance"), Dist, sha256, Production, Now);

        Assert.Contains("the file's sha256 is not 64 hex digits", result.Failure);
    }

    [Fact]
    public void RandomByteChanges_NeverThrowAndNeverVerify()
    {
        // 300 random single-byte changes (fixed seed): each breaks the JSON, the base64 or a signed value, and must
        // give a Failed verdict, never an exception and never Verified.
        var original = Read("pypi_attestations-0.0.19.tar.gz.provenance");
        var random = new Random(740);
        for (var i = 0; i < 300; i++)
        {
            var document = (byte[])original.Clone();
            var position = random.Next(document.Length);
            document[position] = (byte)random.Next(256);
            if (document[position] == original[position])
            {
                continue;
            }
            var result = Verify(document);
            Assert.False(result.Verified, $"a changed byte at {position} still verified");
            Assert.False(string.IsNullOrEmpty(result.Failure));
        }
    }
}
