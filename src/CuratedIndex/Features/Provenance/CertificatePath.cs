using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// Path validation of a certificate against one chain from the trusted root (leaf-most first, the last one a
/// self-signed root) at a given time. The paths are short and fixed (Fulcio: leaf, intermediate, root; TSA: leaf,
/// root), so doing it directly is simple to audit and about ten times cheaper than building an X509Chain on Linux, which
/// dominated verification time. Checks: names link, each signature verifies with the next key, the root signs itself,
/// every certificate is within its validity at the time, issuers are CAs allowed to sign certificates within their
/// path length, and no certificate has a critical extension we do not process.
/// </summary>
internal static class CertificatePath
{
    private const string KeyUsageOid = "2.5.29.15";
    private const string SubjectAltNameOid = "2.5.29.17";
    private const string BasicConstraintsOid = "2.5.29.19";
    private const string ExtendedKeyUsageOid = "2.5.29.37";

    /// <summary>Null when <paramref name="subject"/> chains through <paramref name="authority"/> at <paramref name="time"/>.</summary>
    public static string? Verify(X509Certificate2 subject, TrustedCertificateChain authority, DateTimeOffset time)
    {
        var chain = authority.Certificates;
        var path = new List<X509Certificate2>(chain.Count + 1) { subject };
        // The subject may itself be the first certificate of the chain (a TSA whose leaf is listed in the root).
        path.AddRange(chain[0].RawData.AsSpan().SequenceEqual(subject.RawData) ? chain.Skip(1) : chain);
        for (var i = 0; i < path.Count; i++)
        {
            var certificate = path[i];
            if (time < certificate.NotBefore.ToUniversalTime() || time > certificate.NotAfter.ToUniversalTime())
            {
                return i == 0
                    ? $"not valid at signed time {time:O} (valid {certificate.NotBefore.ToUniversalTime():O}..{certificate.NotAfter.ToUniversalTime():O})"
                    : $"chain certificate '{certificate.Subject}' is not valid at signed time {time:O}";
            }
            if (UnprocessedCriticalExtension(certificate) is { } oid)
            {
                return $"certificate '{certificate.Subject}' has unknown critical extension {oid}";
            }
            if (i > 0 && CertificateAuthorityFailure(certificate, intermediatesBelow: i - 1) is { } failure)
            {
                return failure;
            }
        }
        // The subject's signature by the first certificate above it; the trusted chain's own signatures once per root.
        return LinkFailure(path, 0) ?? authority.SignatureFailure;
    }

    /// <summary>Null when each certificate of <paramref name="chain"/> is signed by the next and the last by itself.</summary>
    public static string? SignatureFailure(IReadOnlyList<X509Certificate2> chain)
    {
        for (var i = 0; i < chain.Count; i++)
        {
            if (LinkFailure(chain, i) is { } failure)
            {
                return failure;
            }
        }
        return null;
    }

    private static string? LinkFailure(IReadOnlyList<X509Certificate2> path, int index)
    {
        var certificate = path[index];
        var issuer = index + 1 < path.Count ? path[index + 1] : certificate;
        if (!certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer.SubjectName.RawData))
        {
            return index + 1 < path.Count
                ? $"certificate '{certificate.Subject}' is not issued by '{issuer.Subject}'"
                : $"chain root '{certificate.Subject}' is not self-signed";
        }
        return SignedBy(certificate, issuer)
            ? null
            : $"signature of '{(certificate.Subject.Length == 0 ? "signing certificate" : certificate.Subject)}' does not verify with the key of '{issuer.Subject}'";
    }

    private static string? CertificateAuthorityFailure(X509Certificate2 certificate, int intermediatesBelow)
    {
        if (certificate.Extensions[BasicConstraintsOid] is not X509BasicConstraintsExtension { CertificateAuthority: true } constraints)
        {
            return $"chain certificate '{certificate.Subject}' is not a CA";
        }
        if (constraints.HasPathLengthConstraint && intermediatesBelow > constraints.PathLengthConstraint)
        {
            return $"chain certificate '{certificate.Subject}' exceeds its path length constraint";
        }
        if (certificate.Extensions[KeyUsageOid] is X509KeyUsageExtension usage && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
        {
            return $"chain certificate '{certificate.Subject}' may not sign certificates";
        }
        return null;
    }

    private static string? UnprocessedCriticalExtension(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Critical && extension.Oid?.Value is not (KeyUsageOid or SubjectAltNameOid or BasicConstraintsOid or ExtendedKeyUsageOid))
            {
                return extension.Oid?.Value ?? "(none)";
            }
        }
        return null;
    }

    /// <summary>Whether <paramref name="issuer"/>'s key signed <paramref name="certificate"/>'s TBSCertificate.</summary>
    public static bool SignedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        try
        {
            var outer = new AsnReader(certificate.RawData, AsnEncodingRules.DER).ReadSequence();
            var tbs = outer.ReadEncodedValue();
            var algorithm = outer.ReadSequence().ReadObjectIdentifier();
            var signature = outer.ReadBitString(out var unusedBits);
            if (unusedBits != 0)
            {
                return false;
            }
            switch (algorithm)
            {
                case "1.2.840.10045.4.3.2":
                case "1.2.840.10045.4.3.3":
                case "1.2.840.10045.4.3.4":
                    {
                        using var key = issuer.GetECDsaPublicKey();
                        return key is not null && key.VerifyData(tbs.Span, signature, EcdsaHash(algorithm), DSASignatureFormat.Rfc3279DerSequence);
                    }
                case "1.2.840.113549.1.1.11":
                case "1.2.840.113549.1.1.12":
                case "1.2.840.113549.1.1.13":
                    {
                        using var key = issuer.GetRSAPublicKey();
                        return key is not null && key.VerifyData(tbs.Span, signature, RsaHash(algorithm), RSASignaturePadding.Pkcs1);
                    }
                default:
                    return false;
            }
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return false;
        }
    }

    private static HashAlgorithmName EcdsaHash(string oid) => oid switch
    {
        "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
        "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static HashAlgorithmName RsaHash(string oid) => oid switch
    {
        "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
        "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };
}
