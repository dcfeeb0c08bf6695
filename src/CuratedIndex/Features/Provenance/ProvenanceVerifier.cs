using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// Verifies a PEP 740 provenance object offline (PROVENANCE.md): every attestation of every bundle must pass every
/// Sigstore check, be a statement about exactly this file, and be signed by the publisher the bundle names. Pure: no
/// I/O, the clock is a parameter. Never throws on hostile input; the failure names the attestation and the check.
/// </summary>
public static class ProvenanceVerifier
{
    // Bounds on the work a hostile document can cause: PyPI's provenance objects are a few KB with one bundle of one
    // or two attestations (publish + SLSA). 1 MB, 16 bundles and 16 attestations in total are far beyond any real one.
    public const int MaxDocumentBytes = 1 << 20;
    public const int MaxBundles = 16;
    public const int MaxAttestations = 16;

    /// <summary>
    /// Verifies <paramref name="provenanceJson"/> for the distribution file <paramref name="filename"/> whose content
    /// has the SHA-256 <paramref name="sha256Hex"/> (lowercase hex) against <paramref name="root"/>, with
    /// <paramref name="now"/> as the clock: a signed time after it (beyond a 5-minute skew) is refused. Attestations
    /// are numbered from 0 across all bundles in failure reasons.
    /// </summary>
    public static ProvenanceVerification Verify(ReadOnlySpan<byte> provenanceJson, string filename, string sha256Hex, TrustedRoot root, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (provenanceJson.Length > MaxDocumentBytes)
        {
            return ProvenanceVerification.Failed($"provenance document is larger than {MaxDocumentBytes} bytes");
        }
        if (string.IsNullOrEmpty(filename))
        {
            return ProvenanceVerification.Failed("no file name to verify the provenance for");
        }
        if (sha256Hex is not { Length: 64 } || !sha256Hex.All(char.IsAsciiHexDigit))
        {
            return ProvenanceVerification.Failed("the file's sha256 is not 64 hex digits");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(provenanceJson.ToArray(), SigstoreJson.DocumentOptions);
        }
        catch (JsonException e)
        {
            return ProvenanceVerification.Failed($"provenance is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var attestationIndex = -1;
            try
            {
                var provenance = document.RootElement;
                if (!SigstoreJson.IsVersionOne(provenance))
                {
                    return ProvenanceVerification.Failed("provenance version is not 1");
                }
                var bundles = SigstoreJson.Array(provenance, "attestation_bundles", "provenance");
                var bundleCount = bundles.GetArrayLength();
                if (bundleCount == 0)
                {
                    return ProvenanceVerification.Failed("provenance has no attestation bundles");
                }
                if (bundleCount > MaxBundles)
                {
                    return ProvenanceVerification.Failed($"provenance has more than {MaxBundles} attestation bundles");
                }
                var evidence = new List<AttestationEvidence>();
                var bundleIndex = 0;
                foreach (var bundle in bundles.EnumerateArray())
                {
                    var publisher = SigstoreJson.Object(bundle, "publisher", $"attestation bundle {bundleIndex}");
                    try
                    {
                        PublisherPolicy.Kind(publisher);
                    }
                    catch (ProvenanceCheckException e)
                    {
                        return ProvenanceVerification.Failed($"attestation bundle {bundleIndex}: {e.Message}");
                    }
                    var attestations = SigstoreJson.Array(bundle, "attestations", $"attestation bundle {bundleIndex}");
                    if (attestations.GetArrayLength() == 0)
                    {
                        return ProvenanceVerification.Failed($"attestation bundle {bundleIndex} has no attestations");
                    }
                    foreach (var attestation in attestations.EnumerateArray())
                    {
                        attestationIndex++;
                        if (attestationIndex >= MaxAttestations)
                        {
                            return ProvenanceVerification.Failed($"provenance has more than {MaxAttestations} attestations");
                        }
                        evidence.Add(VerifyAttestation(attestation, publisher, filename, sha256Hex, root, now));
                    }
                    bundleIndex++;
                }
                return new ProvenanceVerification(true, null, evidence);
            }
            catch (ProvenanceCheckException e)
            {
                return ProvenanceVerification.Failed(Prefix(attestationIndex) + e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A malformed structure a specific check did not anticipate: still a verdict, never an exception.
                return ProvenanceVerification.Failed($"{Prefix(attestationIndex)}malformed input ({e.GetType().Name}: {e.Message})");
            }
        }
    }

    private static string Prefix(int attestationIndex) => attestationIndex >= 0 ? $"attestation {attestationIndex}: " : "";

    private static AttestationEvidence VerifyAttestation(JsonElement attestation, JsonElement publisher, string filename, string sha256Hex, TrustedRoot root, DateTimeOffset now)
    {
        var material = ReadAttestation(attestation);
        var verified = SigstoreVerification.Verify(material, root, now);
        var statement = InTotoStatement.Parse(((DsseContent)material.Content).Payload);
        statement.RequirePep740Subject(filename, sha256Hex);
        var identity = PublisherPolicy.Match(publisher, verified.Certificate);
        return new AttestationEvidence(
            statement.PredicateType,
            verified.LogIndex,
            verified.Log.Origin,
            verified.SignedAt,
            identity,
            verified.Certificate.Extension(14),
            verified.Certificate.Extension(13));
    }

    /// <summary>
    /// Verifies one bare PEP 740 attestation (no publisher object, e.g. a <c>.publish.attestation</c> file) against
    /// an expected certificate identity instead of a publisher: for assets signed by identities that are no trusted
    /// publisher (developer e-mail identities on staging). The same checks as <see cref="Verify"/>.
    /// </summary>
    internal static BundleVerification VerifyAttestation(ReadOnlySpan<byte> attestationJson, string filename, string sha256Hex, TrustedRoot root, DateTimeOffset now, ExpectedIdentity identity)
    {
        if (attestationJson.Length > MaxDocumentBytes)
        {
            return BundleVerification.Failed("attestation is larger than 1 MB");
        }
        try
        {
            using var document = JsonDocument.Parse(attestationJson.ToArray(), SigstoreJson.DocumentOptions);
            var material = ReadAttestation(document.RootElement);
            var verified = SigstoreVerification.Verify(material, root, now);
            InTotoStatement.Parse(((DsseContent)material.Content).Payload).RequirePep740Subject(filename, sha256Hex);
            return SigstoreBundleVerifier.IdentityMismatch(verified.Certificate, identity) is { } mismatch
                ? BundleVerification.Failed(mismatch)
                : new BundleVerification(true, null);
        }
        catch (ProvenanceCheckException e)
        {
            return BundleVerification.Failed(e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return BundleVerification.Failed($"malformed input ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>
    /// A PEP 740 attestation: a Sigstore bundle v0.3 with the DSSE envelope flattened (payload type implicitly in-toto,
    /// exactly one signature) and <c>verification_material.timestamps</c> (proposed) holding RFC 3161 responses.
    /// </summary>
    internal static SignedMaterial ReadAttestation(JsonElement attestation)
    {
        const string What = "attestation";
        if (attestation.ValueKind != JsonValueKind.Object)
        {
            throw new ProvenanceCheckException("attestation must be an object");
        }
        if (!SigstoreJson.IsVersionOne(attestation))
        {
            throw new ProvenanceCheckException("attestation version is not 1");
        }
        var material = SigstoreJson.Object(attestation, "verification_material", What);
        var entries = SigstoreJson.Array(material, "transparency_entries", What);
        if (entries.GetArrayLength() != 1)
        {
            throw new ProvenanceCheckException($"attestation has {entries.GetArrayLength()} transparency entries, not exactly one");
        }
        var timestamps = new List<byte[]>();
        if (SigstoreJson.OptionalArray(material, "timestamps", What) is { } array)
        {
            if (array.GetArrayLength() > SigstoreVerification.MaxTimestamps)
            {
                throw new ProvenanceCheckException($"attestation has more than {SigstoreVerification.MaxTimestamps} timestamps");
            }
            foreach (var timestamp in array.EnumerateArray())
            {
                timestamps.Add(SigstoreJson.DecodeBase64(timestamp.ValueKind == JsonValueKind.String ? timestamp.GetString()! : "!", "attestation timestamp"));
            }
        }
        var envelope = SigstoreJson.Object(attestation, "envelope", What);
        return new SignedMaterial(
            SigstoreJson.Base64(material, "certificate", What),
            TransparencyEntry.Parse(entries[0]),
            timestamps,
            new DsseContent(DsseContent.InTotoPayloadType, SigstoreJson.Base64(envelope, "statement", What), SigstoreJson.Base64(envelope, "signature", What)));
    }
}
