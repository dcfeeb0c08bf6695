using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// RFC 3161 timestamps from a trusted timestamp authority: the signed time for Rekor v2 entries, which have no SET.
/// The token's message imprint covers the signature bytes (not the statement), so it proves the signature existed at
/// genTime.
/// </summary>
internal static class Rfc3161Timestamps
{
    private const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";

    /// <summary>Returns the token's genTime once every check passes.</summary>
    public static DateTimeOffset Verify(byte[] timestamp, byte[] signature, TrustedRoot root)
    {
        var token = Decode(timestamp);
        var info = token.TokenInfo;
        var hashName = info.HashAlgorithmId.Value switch
        {
            "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
            "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
            "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
            var other => throw new ProvenanceCheckException($"RFC 3161 timestamp uses unsupported hash {other}"),
        };
        var expected = hashName == HashAlgorithmName.SHA256 ? SHA256.HashData(signature)
            : hashName == HashAlgorithmName.SHA384 ? SHA384.HashData(signature)
            : SHA512.HashData(signature);
        if (!info.GetMessageHash().Span.SequenceEqual(expected))
        {
            throw new ProvenanceCheckException("RFC 3161 timestamp is not over this signature (message imprint differs)");
        }
        var genTime = info.Timestamp;

        foreach (var authority in root.TimestampAuthorities)
        {
            var leaf = authority.Certificates[0];
            var candidates = new X509Certificate2Collection();
            candidates.AddRange(authority.Certificates.ToArray());
            // VerifySignatureForData does not anchor trust, and it prefers certificates embedded in the token; the
            // signer must be this authority's leaf, byte for byte.
            if (!token.VerifySignatureForData(signature, out var signer, candidates) || signer is null
                || !signer.RawData.AsSpan().SequenceEqual(leaf.RawData))
            {
                continue;
            }
            if (!authority.Validity.Covers(genTime))
            {
                throw new ProvenanceCheckException($"RFC 3161 timestamp time {genTime:O} is outside timestamp authority {authority.Uri}'s validity {authority.Validity}");
            }
            VerifyAuthorityChain(authority, genTime);
            return genTime;
        }
        throw new ProvenanceCheckException("RFC 3161 timestamp signature does not verify with a timestamp authority in the trusted root");
    }

    private static void VerifyAuthorityChain(TrustedCertificateChain authority, DateTimeOffset genTime)
    {
        foreach (var certificate in authority.Certificates)
        {
            if (genTime < certificate.NotBefore.ToUniversalTime() || genTime > certificate.NotAfter.ToUniversalTime())
            {
                throw new ProvenanceCheckException($"RFC 3161 timestamp time {genTime:O} is outside the validity of timestamp authority certificate '{certificate.Subject}'");
            }
        }
        var leaf = authority.Certificates[0];
        if (leaf.Extensions["2.5.29.37"] is not X509EnhancedKeyUsageExtension usage
            || !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == TimeStampingOid))
        {
            throw new ProvenanceCheckException("timestamp authority certificate lacks the timeStamping key usage");
        }
        if (CertificatePath.Verify(leaf, authority, genTime) is { } failure)
        {
            throw new ProvenanceCheckException($"timestamp authority chain in the trusted root does not verify: {failure}");
        }
    }

    /// <summary>The stored blob is a TimeStampResp (status + token); a bare token (ContentInfo) is accepted too.</summary>
    private static Rfc3161TimestampToken Decode(byte[] blob)
    {
        try
        {
            var outer = new AsnReader(blob, AsnEncodingRules.BER).ReadSequence();
            ReadOnlyMemory<byte> contentInfo;
            if (outer.PeekTag() == Asn1Tag.Sequence)
            {
                var status = outer.ReadSequence();
                if (!status.TryReadInt32(out var value) || value is not (0 or 1))
                {
                    throw new ProvenanceCheckException("RFC 3161 timestamp response status is not granted");
                }
                contentInfo = outer.ReadEncodedValue();
            }
            else
            {
                contentInfo = blob;
            }
            // When the token embeds its signer's certificate, TryDecode also checks the signature and that genTime lies
            // in that certificate's validity, so a flipped byte or an expired TSA certificate usually surfaces here.
            if (!Rfc3161TimestampToken.TryDecode(contentInfo, out var token, out var consumed) || token is null || consumed != contentInfo.Length)
            {
                throw new ProvenanceCheckException("RFC 3161 timestamp token is malformed, or its embedded signer certificate does not verify it at its time");
            }
            return token;
        }
        catch (AsnContentException)
        {
            throw new ProvenanceCheckException("RFC 3161 timestamp is not DER");
        }
        catch (CryptographicException)
        {
            throw new ProvenanceCheckException("RFC 3161 timestamp token does not decode");
        }
    }
}
