using System.Security.Cryptography;
using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

/// <summary>The identity a bundle must be signed by: the certificate's SAN (URI or email) and OIDC issuer.</summary>
internal sealed record ExpectedIdentity(string SubjectAlternativeName, string Issuer);

/// <summary>The verdict on a Sigstore bundle.</summary>
internal sealed record BundleVerification(bool Verified, string? Failure)
{
    public static BundleVerification Failed(string reason) => new(false, reason);
}

/// <summary>
/// Verifies a Sigstore bundle (v0.1 to v0.3 JSON) over an artifact with the same checks PEP 740 attestations go
/// through (<see cref="SigstoreVerification"/>). It exists for Sigstore's conformance vectors and PEP 740 assets that
/// ship as <c>.sigstore</c> bundles; the product verifies provenance with <see cref="ProvenanceVerifier"/>. Key-pair
/// (managed-key) bundles and intoto entries are not supported: PEP 740 never uses them.
/// </summary>
internal static class SigstoreBundleVerifier
{
    private static readonly HashSet<string> MediaTypes =
    [
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
    ];

    public static BundleVerification Verify(ReadOnlySpan<byte> bundleJson, ReadOnlySpan<byte> artifact, TrustedRoot root, DateTimeOffset now, ExpectedIdentity? identity)
    {
        if (bundleJson.Length > ProvenanceVerifier.MaxDocumentBytes)
        {
            return BundleVerification.Failed("bundle is larger than 1 MB");
        }
        try
        {
            using var document = JsonDocument.Parse(bundleJson.ToArray(), SigstoreJson.DocumentOptions);
            var artifactDigest = SHA256.HashData(artifact);
            var material = Read(document.RootElement, artifactDigest);
            var verified = SigstoreVerification.Verify(material, root, now);
            if (material.Content is DsseContent dsse)
            {
                var statement = InTotoStatement.Parse(dsse.Payload);
                var hex = Convert.ToHexStringLower(artifactDigest);
                if (!statement.Subjects.Any(s => string.Equals(s.Sha256, hex, StringComparison.OrdinalIgnoreCase)))
                {
                    return BundleVerification.Failed("no in-toto subject has the artifact's sha256");
                }
            }
            return identity is not null && IdentityMismatch(verified.Certificate, identity) is { } mismatch
                ? BundleVerification.Failed(mismatch)
                : new BundleVerification(true, null);
        }
        catch (ProvenanceCheckException e)
        {
            return BundleVerification.Failed(e.Message);
        }
        catch (JsonException e)
        {
            return BundleVerification.Failed($"bundle is not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return BundleVerification.Failed($"malformed input ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>Null when the certificate's SAN (URI or email) and OIDC issuer are the expected ones.</summary>
    internal static string? IdentityMismatch(FulcioCertificate certificate, ExpectedIdentity identity)
    {
        var (uris, emails) = certificate.SubjectAlternativeNames();
        if (!uris.Contains(identity.SubjectAlternativeName) && !emails.Contains(identity.SubjectAlternativeName))
        {
            return $"certificate SAN is not the expected identity '{identity.SubjectAlternativeName}'";
        }
        return certificate.Issuer != identity.Issuer
            ? $"certificate issuer '{certificate.Issuer}' is not the expected issuer '{identity.Issuer}'"
            : null;
    }

    private static SignedMaterial Read(JsonElement bundle, byte[] artifactDigest)
    {
        const string What = "bundle";
        var mediaType = SigstoreJson.String(bundle, "mediaType", What);
        if (!MediaTypes.Contains(mediaType))
        {
            throw new ProvenanceCheckException($"bundle media type '{mediaType}' is not a supported Sigstore bundle version");
        }
        var material = SigstoreJson.Object(bundle, "verificationMaterial", What);
        byte[] certificate;
        if (SigstoreJson.OptionalObject(material, "certificate", What) is { } single)
        {
            certificate = SigstoreJson.Base64(single, "rawBytes", What + " certificate");
        }
        else if (SigstoreJson.OptionalObject(material, "x509CertificateChain", What) is { } chain)
        {
            var certificates = SigstoreJson.Array(chain, "certificates", What + " x509CertificateChain");
            if (certificates.GetArrayLength() == 0)
            {
                throw new ProvenanceCheckException("bundle certificate chain is empty");
            }
            // Only the leaf is used; trust comes from the trusted root. A chain carrying its own root is refused, as a
            // sign the signer tried to bring its own trust anchor.
            foreach (var element in certificates.EnumerateArray())
            {
                using var candidate = FulcioCertificate.Load(SigstoreJson.Base64(element, "rawBytes", What + " x509CertificateChain")).Certificate;
                if (candidate.SubjectName.RawData.AsSpan().SequenceEqual(candidate.IssuerName.RawData))
                {
                    throw new ProvenanceCheckException("bundle certificate chain includes a self-signed root certificate");
                }
            }
            certificate = SigstoreJson.Base64(certificates[0], "rawBytes", What + " x509CertificateChain");
        }
        else if (SigstoreJson.Optional(material, "publicKey", What) is not null)
        {
            throw new ProvenanceCheckException("bundle is signed with a managed key (publicKey), which is not supported: PEP 740 uses Fulcio certificates");
        }
        else
        {
            throw new ProvenanceCheckException("bundle has no signing certificate");
        }

        var entries = SigstoreJson.OptionalArray(material, "tlogEntries", What);
        if (entries is not { } entryArray || entryArray.GetArrayLength() != 1)
        {
            throw new ProvenanceCheckException("bundle does not have exactly one transparency log entry");
        }
        var timestamps = new List<byte[]>();
        if (SigstoreJson.OptionalObject(material, "timestampVerificationData", What) is { } timestampData
            && SigstoreJson.OptionalArray(timestampData, "rfc3161Timestamps", What) is { } timestampArray)
        {
            if (timestampArray.GetArrayLength() > SigstoreVerification.MaxTimestamps)
            {
                throw new ProvenanceCheckException($"bundle has more than {SigstoreVerification.MaxTimestamps} timestamps");
            }
            foreach (var timestamp in timestampArray.EnumerateArray())
            {
                timestamps.Add(SigstoreJson.Base64(timestamp, "signedTimestamp", What + " timestamp"));
            }
        }

        SignedContent content;
        if (SigstoreJson.OptionalObject(bundle, "messageSignature", What) is { } messageSignature)
        {
            var digest = SigstoreJson.Object(messageSignature, "messageDigest", What + " messageSignature");
            if (SigstoreJson.String(digest, "algorithm", What + " messageDigest") != "SHA2_256")
            {
                throw new ProvenanceCheckException("bundle message digest is not SHA2_256");
            }
            if (!SigstoreJson.Base64(digest, "digest", What + " messageDigest").AsSpan().SequenceEqual(artifactDigest))
            {
                throw new ProvenanceCheckException("bundle message digest is not the artifact's sha256");
            }
            content = new MessageSignatureContent(artifactDigest, SigstoreJson.Base64(messageSignature, "signature", What + " messageSignature"));
        }
        else if (SigstoreJson.OptionalObject(bundle, "dsseEnvelope", What) is { } envelope)
        {
            var signatures = SigstoreJson.Array(envelope, "signatures", What + " dsseEnvelope");
            if (signatures.GetArrayLength() != 1)
            {
                throw new ProvenanceCheckException("bundle DSSE envelope does not have exactly one signature");
            }
            content = new DsseContent(
                SigstoreJson.String(envelope, "payloadType", What + " dsseEnvelope"),
                SigstoreJson.Base64(envelope, "payload", What + " dsseEnvelope"),
                SigstoreJson.Base64(signatures[0], "sig", What + " dsseEnvelope signature"));
        }
        else
        {
            throw new ProvenanceCheckException("bundle has neither a message signature nor a DSSE envelope");
        }
        return new SignedMaterial(certificate, TransparencyEntry.Parse(entryArray[0]), timestamps, content);
    }
}
