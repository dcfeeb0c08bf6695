namespace CuratedIndex.Features.Provenance;

/// <summary>
/// Ed25519 verification for Rekor v2 checkpoints. The BCL has no Ed25519. We use BouncyCastle.Cryptography: it is fully
/// managed, so there is no native libsodium (as NSec needs) to ship and load in every container image and architecture,
/// and we only need to verify, never to sign.
/// </summary>
internal static class Ed25519Signature
{
    public static bool Verify(byte[] publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.PublicKeySize
            || signature.Length != Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.SignatureSize)
        {
            return false;
        }
        var message = data.ToArray();
        return Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(signature.ToArray(), 0, publicKey, 0, message, 0, message.Length);
    }
}
