using CuratedIndex.Features.Provenance;
using static CuratedIndex.Tests.Features.Provenance.ProvenanceFixtures;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// Sigstore's conformance vectors (sigstore-conformance test/assets/bundle-verify), one directory per case: a
/// directory ending in <c>_fail</c> must be refused, any other must verify. Defaults as in the suite's README: the
/// artifact is ../a.txt, the identity the conformance beacon workflow, the trusted root production's.
/// </summary>
public sealed class SigstoreConformanceTests
{
    private const string DefaultIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    private const string DefaultIssuer = "https://token.actions.githubusercontent.com";

    private static string VectorsDirectory => Path.Combine(ProvenanceFixtures.Directory, "conformance");

    /// <summary>Kinds PEP 740 never uses: managed-key (public key) bundles and intoto/0.0.2 log entries.</summary>
    private static bool NeverUsedByPep740(string name) => name.StartsWith("managed-key-", StringComparison.Ordinal) || name.StartsWith("intoto-", StringComparison.Ordinal);

    private static TheoryData<string> Vectors(bool usedByPep740)
    {
        var data = new TheoryData<string>();
        foreach (var directory in System.IO.Directory.GetDirectories(VectorsDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            if (NeverUsedByPep740(directory!) != usedByPep740)
            {
                data.Add(directory!);
            }
        }
        return data;
    }

    public static TheoryData<string> Pep740Vectors => Vectors(usedByPep740: true);

    public static TheoryData<string> VectorsPep740NeverUses => Vectors(usedByPep740: false);

    /// <summary>Each expected failure is refused by the check its README describes.</summary>
    private static readonly Dictionary<string, string> ExpectedReasons = new()
    {
        ["bundle-empty-certificate-chain_fail"] = "certificate chain is empty",
        ["bundle-from-wrong-instance_fail"] = "not in trusted root",
        ["bundle-invalid-base64-signature_fail"] = "is not valid base64",
        ["bundle-malformed-json_fail"] = "not valid JSON",
        ["bundle-negative-log-index_fail"] = "log index -1 is negative",
        ["bundle-unknown-version_fail"] = "is not a supported Sigstore bundle version",
        ["bundle-with-root-cert_fail"] = "self-signed root certificate",
        ["checkpoint-bad-keyhint_fail"] = "no signature from log rekor.sigstore.dev with its key hint",
        // The size check comes before the root hash check (PROVENANCE.md).
        ["checkpoint-wrong-roothash_fail"] = "checkpoint tree size",
        ["dsse-invalid-sig_fail"] = "DSSE signature does not verify",
        ["dsse-mismatch-envelope_fail"] = "body does not match the envelope: payload hash",
        ["dsse-mismatch-sig_fail"] = "body does not match the envelope: signature",
        ["inclusion-proof-corrupted-hash_fail"] = "inclusion proof does not reach",
        // The modified public key changes the logged body, so the proof no longer reaches the root.
        ["incorrect-public-key_fail"] = "inclusion proof does not reach",
        ["integrated-time-in-future_fail"] = "signing certificate is not valid at signed time",
        ["invalid-checkpoint-signature_fail"] = "checkpoint signature does not verify",
        ["invalid-ct-key_fail"] = "is not a CT log in the trusted root",
        ["invalid-inclusion-proof_fail"] = "inclusion proof has no checkpoint",
        ["message-digest-mismatch_fail"] = "message digest is not the artifact's sha256",
        ["rekor2-checkpoint-missing-log-signature_fail"] = "checkpoint has no signature lines",
        ["rekor2-checkpoint-missing-origin_fail"] = "checkpoint note must have an origin",
        ["rekor2-checkpoint-missing-root-hash_fail"] = "checkpoint note must have an origin, a tree size and a root hash",
        ["rekor2-checkpoint-missing-size_fail"] = "checkpoint note must have an origin, a tree size and a root hash",
        ["rekor2-checkpoint-no-matching-signature_fail"] = "checkpoint origin 'log2025-alpha1.rekor.github.dev' is not log",
        ["rekor2-dsse-invalid-sig_fail"] = "DSSE signature does not verify",
        ["rekor2-dsse-mismatch-envelope_fail"] = "body does not match the envelope: data digest",
        ["rekor2-dsse-mismatch-sig_fail"] = "body does not match the envelope: signature",
        ["rekor2-no-inclusion-proof_fail"] = "has no inclusion proof",
        ["rekor2-no-timestamp_fail"] = "no signed time",
        ["rekor2-timestamp-outside-trust-root-tsa-validity_fail"] = "is outside timestamp authority",
        ["rekor2-timestamp-outside-tsa-cert-validity_fail"] = "embedded signer certificate does not verify it at its time",
        ["rekor2-timestamp-payload-mismatch_fail"] = "RFC 3161 timestamp is not over this signature",
        ["rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail"] = "does not verify with a timestamp authority in the trusted root",
        ["rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail"] = "does not verify with a timestamp authority in the trusted root",
        ["rekor2-timestamp-with-incorrect-time_fail"] = "signing certificate is not valid at signed time",
        ["set-invalid-signature_fail"] = "signed entry timestamp (SET) does not verify",
        ["signature-mismatch_fail"] = "message signature does not verify",
        ["trust-root-tlog-missing-validity-start_fail"] = "key is not valid at signed time",
        ["wrong-hashedrekord-artifact_fail"] = "body does not match the envelope: data hash",
        ["wrong-hashedrekord-cert-and-sig_fail"] = "body does not match the envelope: signature",
        ["wrong-hashedrekord-entry_fail"] = "body does not match the envelope: data hash",
        ["wrong-material_fail"] = "message digest is not the artifact's sha256",
    };

    [Theory]
    [MemberData(nameof(Pep740Vectors))]
    public void ConformanceVector_GivesTheExpectedVerdict(string vector)
    {
        var result = VerifyVector(vector);

        if (vector.EndsWith("_fail", StringComparison.Ordinal))
        {
            Assert.False(result.Verified, "expected a failure");
            Assert.Contains(ExpectedReasons[vector], result.Failure);
        }
        else
        {
            Assert.True(result.Verified, result.Failure);
        }
    }

    /// <summary>
    /// Not skipped but pinned: managed-key bundles and intoto/0.0.2 entries are refused as unsupported, the expected
    /// successes among them included. PEP 740 attestations are always Fulcio-certified DSSE entries.
    /// </summary>
    [Theory]
    [MemberData(nameof(VectorsPep740NeverUses))]
    public void ConformanceVector_KindPep740NeverUses_IsRefusedAsUnsupported(string vector)
    {
        var result = VerifyVector(vector);

        Assert.False(result.Verified);
        Assert.Contains("not supported", result.Failure);
    }

    [Fact]
    public void ConformanceVectors_AllPresent()
    {
        Assert.Equal(70, Pep740Vectors.Count + VectorsPep740NeverUses.Count);
    }

    private static BundleVerification VerifyVector(string vector)
    {
        var directory = Path.Combine(VectorsDirectory, vector);
        string? Optional(string name) => File.Exists(Path.Combine(directory, name)) ? File.ReadAllText(Path.Combine(directory, name)).Trim() : null;
        var artifactPath = File.Exists(Path.Combine(directory, "artifact")) ? Path.Combine(directory, "artifact") : Path.Combine(VectorsDirectory, "a.txt");
        var root = File.Exists(Path.Combine(directory, "trusted_root.json"))
            ? TrustedRoot.Parse(File.ReadAllBytes(Path.Combine(directory, "trusted_root.json")))
            : Production;
        return SigstoreBundleVerifier.Verify(File.ReadAllBytes(Path.Combine(directory, "bundle.sigstore.json")), File.ReadAllBytes(artifactPath), root, Now,
            new ExpectedIdentity(Optional("identity") ?? DefaultIdentity, Optional("issuer") ?? DefaultIssuer));
    }
}
