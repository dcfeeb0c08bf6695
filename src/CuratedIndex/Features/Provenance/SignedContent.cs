using System.Globalization;
using System.Text;

namespace CuratedIndex.Features.Provenance;

/// <summary>What the signing certificate's key signed: a DSSE envelope (PEP 740 attestations) or a message digest
/// (hashedrekord bundles, conformance only).</summary>
internal abstract record SignedContent(byte[] Signature);

/// <summary>
/// A DSSE envelope with one signature. The signature covers the PAE (DSSEv1 pre-authentication encoding) of the payload
/// type and the exact payload bytes; lengths are ASCII decimal byte counts.
/// </summary>
internal sealed record DsseContent(string PayloadType, byte[] Payload, byte[] Signature) : SignedContent(Signature)
{
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    public byte[] Pae { get; } = BuildPae(PayloadType, Payload);

    private static byte[] BuildPae(string payloadType, byte[] payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {type.Length} {payloadType} {payload.Length} "));
        return [.. header, .. payload];
    }
}

/// <summary>A signature over a message of which only the SHA-256 digest is needed.</summary>
internal sealed record MessageSignatureContent(byte[] Sha256Digest, byte[] Signature) : SignedContent(Signature);
