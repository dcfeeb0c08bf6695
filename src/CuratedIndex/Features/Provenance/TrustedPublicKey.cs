using System.Formats.Asn1;
using System.Security.Cryptography;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// A public key from the trusted root (<c>publicKey.rawBytes</c>, DER SubjectPublicKeyInfo) with its Sigstore
/// <c>keyDetails</c>. The platform key is imported per verification: .NET key objects are not documented as safe for
/// concurrent use, and the import costs microseconds.
/// </summary>
internal sealed class TrustedPublicKey(string keyDetails, byte[] subjectPublicKeyInfo)
{
    // id-Ed25519 (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (32 bytes) }.
    private static readonly byte[] Ed25519SpkiPrefix = Convert.FromHexString("302a300506032b6570032100");

    public string KeyDetails { get; } = keyDetails;
    public byte[] SubjectPublicKeyInfo { get; } = subjectPublicKeyInfo;

    public bool IsEd25519 => KeyDetails == "PKIX_ED25519";

    /// <summary>The raw 32-byte Ed25519 key, which the C2SP note key ID of a Rekor v2 log is computed over.</summary>
    public byte[]? Ed25519RawKey =>
        SubjectPublicKeyInfo.Length == 44 && SubjectPublicKeyInfo.AsSpan(0, 12).SequenceEqual(Ed25519SpkiPrefix)
            ? SubjectPublicKeyInfo[12..]
            : null;

    /// <summary>True when <paramref name="signature"/> (DER ECDSA, raw Ed25519 or PKCS#1 v1.5 RSA) verifies over
    /// <paramref name="data"/>. Any malformed key or signature is simply "does not verify".</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            switch (KeyDetails)
            {
                case "PKIX_ECDSA_P256_SHA_256":
                    return VerifyEcdsa(data, signature, HashAlgorithmName.SHA256);
                case "PKIX_ECDSA_P384_SHA_384":
                    return VerifyEcdsa(data, signature, HashAlgorithmName.SHA384);
                case "PKIX_ECDSA_P521_SHA_512":
                    return VerifyEcdsa(data, signature, HashAlgorithmName.SHA512);
                case "PKIX_ED25519":
                    return Ed25519RawKey is { } raw && Ed25519Signature.Verify(raw, data, signature);
                case "PKCS1_RSA_PKCS1V5":
                case "PKIX_RSA_PKCS1V15_2048_SHA256":
                case "PKIX_RSA_PKCS1V15_3072_SHA256":
                case "PKIX_RSA_PKCS1V15_4096_SHA256":
                    using (var rsa = RSA.Create())
                    {
                        ImportRsa(rsa);
                        return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    }
                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    private bool VerifyEcdsa(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName hash)
    {
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
        return ecdsa.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
    }

    // PKCS1_RSA_PKCS1V5 keys are PKCS#1 RSAPublicKey in some roots, SubjectPublicKeyInfo in others.
    private void ImportRsa(RSA rsa)
    {
        try
        {
            rsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
        }
        catch (CryptographicException)
        {
            rsa.ImportRSAPublicKey(SubjectPublicKeyInfo, out _);
        }
    }
}
