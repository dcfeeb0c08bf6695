using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// A Fulcio-issued signing certificate: the identity it carries (SAN and Fulcio OIDC extensions) and the checks that it
/// chains to a trusted Fulcio CA at the signed time and has the code-signing leaf profile.
/// </summary>
internal sealed class FulcioCertificate
{
    public const string FulcioOidPrefix = "1.3.6.1.4.1.57264.1.";
    private const string CodeSigningOid = "1.3.6.1.5.5.7.3.3";
    private const string KeyUsageOid = "2.5.29.15";
    private const string SubjectAltNameOid = "2.5.29.17";
    private const string BasicConstraintsOid = "2.5.29.19";
    private const string ExtendedKeyUsageOid = "2.5.29.37";

    private FulcioCertificate(X509Certificate2 certificate) => Certificate = certificate;

    public X509Certificate2 Certificate { get; }

    public static FulcioCertificate Load(byte[] der)
    {
        try
        {
            return new FulcioCertificate(X509CertificateLoader.LoadCertificate(der));
        }
        catch (CryptographicException)
        {
            throw new ProvenanceCheckException("signing certificate is not a DER X.509 certificate");
        }
    }

    /// <summary>
    /// Fulcio extension <c>1.3.6.1.4.1.57264.1.N</c> as text. OIDs .1 to .6 (deprecated) hold the raw UTF-8 bytes;
    /// .8 and later hold a DER UTF8String. Null when absent; a malformed value fails.
    /// </summary>
    public string? Extension(int number)
    {
        var extension = Certificate.Extensions[FulcioOidPrefix + number];
        if (extension is null)
        {
            return null;
        }
        if (number <= 6)
        {
            return Encoding.UTF8.GetString(extension.RawData);
        }
        try
        {
            var text = AsnDecoder.ReadCharacterString(extension.RawData, AsnEncodingRules.DER, UniversalTagNumber.UTF8String, out var consumed);
            return consumed == extension.RawData.Length
                ? text
                : throw new ProvenanceCheckException($"certificate extension {FulcioOidPrefix}{number} has trailing bytes");
        }
        catch (AsnContentException)
        {
            throw new ProvenanceCheckException($"certificate extension {FulcioOidPrefix}{number} is not a DER UTF8String");
        }
    }

    /// <summary>The OIDC issuer: Issuer (V2) .8, else the deprecated raw .1.</summary>
    public string? Issuer => Extension(8) ?? Extension(1);

    /// <summary>The SAN's URIs and rfc822 names (Fulcio leaves have an empty subject; the SAN is the identity).</summary>
    public (IReadOnlyList<string> Uris, IReadOnlyList<string> Emails) SubjectAlternativeNames()
    {
        var uris = new List<string>();
        var emails = new List<string>();
        var extension = Certificate.Extensions[SubjectAltNameOid];
        if (extension is null)
        {
            return (uris, emails);
        }
        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag == new Asn1Tag(TagClass.ContextSpecific, 1))
                {
                    emails.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
                else if (tag == new Asn1Tag(TagClass.ContextSpecific, 6))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            throw new ProvenanceCheckException("certificate subject alternative name is malformed");
        }
        return (uris, emails);
    }

    /// <summary>
    /// Validates the path to a trusted Fulcio CA at the signed time <paramref name="signedAt"/> (every Fulcio leaf lives
    /// 10 minutes and is long expired by now, so "now" would be wrong) and returns the issuing certificate (for the
    /// SCT). The CA entry's own validFor must cover the time too.
    /// </summary>
    public X509Certificate2 VerifyChain(TrustedRoot root, DateTimeOffset signedAt)
    {
        string? failure = null;
        foreach (var authority in root.CertificateAuthorities)
        {
            if (!authority.Certificates[0].SubjectName.RawData.AsSpan().SequenceEqual(Certificate.IssuerName.RawData))
            {
                continue;
            }
            if (!authority.Validity.Covers(signedAt))
            {
                failure ??= $"certificate authority {authority.Uri} is not valid at signed time {signedAt:O} (valid {authority.Validity})";
                continue;
            }
            if (CertificatePath.Verify(Certificate, authority, signedAt) is not { } pathFailure)
            {
                return authority.Certificates[0];
            }
            failure = pathFailure.StartsWith("not valid at", StringComparison.Ordinal)
                ? $"signing certificate is {pathFailure}"
                : $"signing certificate does not chain to certificate authority {authority.Uri}: {pathFailure}";
        }
        throw new ProvenanceCheckException(failure ?? $"signing certificate issuer '{Certificate.Issuer}' is not a certificate authority in the trusted root");
    }

    /// <summary>The Fulcio leaf profile: a code-signing end-entity key whose only critical extensions are known.</summary>
    public void VerifyLeafProfile()
    {
        if (Certificate.Version != 3)
        {
            throw new ProvenanceCheckException("signing certificate is not X.509 v3");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in Certificate.Extensions)
        {
            var oid = extension.Oid?.Value ?? "";
            if (!seen.Add(oid))
            {
                throw new ProvenanceCheckException($"signing certificate repeats extension {oid}");
            }
            if (extension.Critical && oid is not (KeyUsageOid or SubjectAltNameOid or BasicConstraintsOid or ExtendedKeyUsageOid))
            {
                throw new ProvenanceCheckException($"signing certificate has unknown critical extension {oid}");
            }
        }
        if (Certificate.Extensions[KeyUsageOid] is not X509KeyUsageExtension keyUsage
            || !keyUsage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            throw new ProvenanceCheckException("signing certificate key usage lacks digitalSignature");
        }
        if (Certificate.Extensions[ExtendedKeyUsageOid] is not X509EnhancedKeyUsageExtension extendedKeyUsage
            || !extendedKeyUsage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == CodeSigningOid))
        {
            throw new ProvenanceCheckException("signing certificate extended key usage lacks codeSigning");
        }
        if (Certificate.Extensions[BasicConstraintsOid] is X509BasicConstraintsExtension { CertificateAuthority: true })
        {
            throw new ProvenanceCheckException("signing certificate is a CA certificate");
        }
        if (Certificate.Extensions[SubjectAltNameOid] is null)
        {
            throw new ProvenanceCheckException("signing certificate has no subject alternative name");
        }
    }

    /// <summary>
    /// Verifies the leaf key's signature over <paramref name="data"/> (DSSE PAE), or over the SHA-256
    /// <paramref name="sha256Digest"/> of a message when only its digest is known (hashedrekord).
    /// </summary>
    public bool VerifySignature(ReadOnlySpan<byte> data, ReadOnlySpan<byte> sha256Digest, ReadOnlySpan<byte> signature, bool prehashed)
    {
        try
        {
            using var ecdsa = Certificate.GetECDsaPublicKey();
            if (ecdsa is not null)
            {
                if (prehashed)
                {
                    return ecdsa.VerifyHash(sha256Digest, signature, DSASignatureFormat.Rfc3279DerSequence);
                }
                var hash = ecdsa.KeySize switch
                {
                    <= 256 => HashAlgorithmName.SHA256,
                    <= 384 => HashAlgorithmName.SHA384,
                    _ => HashAlgorithmName.SHA512,
                };
                return ecdsa.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
            }
            using var rsa = Certificate.GetRSAPublicKey();
            if (rsa is not null)
            {
                return prehashed
                    ? rsa.VerifyHash(sha256Digest, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                    : rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            }
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
