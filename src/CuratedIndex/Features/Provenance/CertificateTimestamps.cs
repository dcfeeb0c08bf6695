using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// The embedded precertificate SCT (RFC 6962 §3.2): proof that Fulcio logged the certificate to a trusted CT log before
/// issuing it, so a certificate the log never saw (a mis-issued one) is refused. sigstore-python and sigstore-go
/// require it; so do we.
/// </summary>
internal static class CertificateTimestamps
{
    public const string SctListOid = "1.3.6.1.4.1.11129.2.4.2";
    private const int MaxTimestamps = 16;

    /// <summary>Requires at least one SCT from a trusted CT log that verifies over the precertificate.</summary>
    public static void Verify(X509Certificate2 leaf, X509Certificate2 issuer, TrustedRoot root)
    {
        var extension = leaf.Extensions[SctListOid]
            ?? throw new ProvenanceCheckException("signing certificate has no embedded SCT");
        byte[] list;
        try
        {
            // The extnValue holds another OCTET STRING whose content is the TLS SignedCertificateTimestampList.
            list = AsnDecoder.ReadOctetString(extension.RawData, AsnEncodingRules.DER, out var consumed);
            if (consumed != extension.RawData.Length)
            {
                throw new ProvenanceCheckException("SCT extension has trailing bytes");
            }
        }
        catch (AsnContentException)
        {
            throw new ProvenanceCheckException("SCT extension is not an OCTET STRING");
        }

        var timestamps = ParseList(list);
        var precertificate = PrecertificateTbs(leaf.RawData);
        var issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        string? failure = null;
        foreach (var sct in timestamps)
        {
            var log = root.CertificateTransparencyLogs.FirstOrDefault(l => l.LogId.AsSpan().SequenceEqual(sct.LogId));
            if (log is null)
            {
                failure ??= $"SCT log id {Convert.ToHexStringLower(sct.LogId)} is not a CT log in the trusted root";
                continue;
            }
            var time = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(sct.Timestamp, (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));
            if (!log.Validity.Covers(time))
            {
                failure = $"SCT time {time:O} is outside CT log {log.BaseUrl}'s validity {log.Validity}";
                continue;
            }
            if (log.Key.Verify(SignedData(sct, issuerKeyHash, precertificate), sct.Signature))
            {
                return;
            }
            failure = $"SCT signature does not verify with CT log {log.BaseUrl}'s key";
        }
        throw new ProvenanceCheckException(failure ?? "signing certificate has no SCT");
    }

    private sealed record Sct(byte[] LogId, ulong Timestamp, byte[] Extensions, byte[] Signature);

    private static List<Sct> ParseList(ReadOnlySpan<byte> list)
    {
        if (list.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(list) != list.Length - 2)
        {
            throw new ProvenanceCheckException("SCT list length is wrong");
        }
        var rest = list[2..];
        var result = new List<Sct>();
        while (rest.Length > 0)
        {
            if (rest.Length < 2)
            {
                throw new ProvenanceCheckException("SCT list is truncated");
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(rest);
            if (rest.Length < 2 + length || result.Count >= MaxTimestamps)
            {
                throw new ProvenanceCheckException("SCT list is truncated or too long");
            }
            result.Add(ParseSct(rest.Slice(2, length)));
            rest = rest[(2 + length)..];
        }
        return result;
    }

    // version(1)=0 | log_id(32) | timestamp u64 | u16 extlen + ext | hash(1) | sig alg(1) | u16 len + signature
    private static Sct ParseSct(ReadOnlySpan<byte> sct)
    {
        const int Fixed = 1 + 32 + 8 + 2;
        if (sct.Length < Fixed || sct[0] != 0)
        {
            throw new ProvenanceCheckException("SCT is not a version 1 SCT");
        }
        var extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(sct[41..]);
        if (sct.Length < Fixed + extensionsLength + 4)
        {
            throw new ProvenanceCheckException("SCT is truncated");
        }
        var extensions = sct.Slice(Fixed, extensionsLength).ToArray();
        var algorithm = sct[(Fixed + extensionsLength)..];
        if (algorithm[0] != 4)
        {
            throw new ProvenanceCheckException("SCT hash algorithm is not SHA-256");
        }
        var signatureLength = BinaryPrimitives.ReadUInt16BigEndian(algorithm[2..]);
        if (algorithm.Length != 4 + signatureLength)
        {
            throw new ProvenanceCheckException("SCT signature length is wrong");
        }
        return new Sct(sct.Slice(1, 32).ToArray(), BinaryPrimitives.ReadUInt64BigEndian(sct[33..]), extensions, algorithm[4..].ToArray());
    }

    // 0 (v1) | 0 (certificate_timestamp) | timestamp | 1 (precert_entry, u16) | issuer key hash | u24 + TBS | u16 + ext
    private static byte[] SignedData(Sct sct, byte[] issuerKeyHash, byte[] precertificate)
    {
        var data = new byte[2 + 8 + 2 + 32 + 3 + precertificate.Length + 2 + sct.Extensions.Length];
        var span = data.AsSpan();
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], sct.Timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], 1);
        issuerKeyHash.CopyTo(span[12..]);
        span[44] = (byte)(precertificate.Length >> 16);
        span[45] = (byte)(precertificate.Length >> 8);
        span[46] = (byte)precertificate.Length;
        precertificate.CopyTo(span[47..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[(47 + precertificate.Length)..], (ushort)sct.Extensions.Length);
        sct.Extensions.CopyTo(span[(49 + precertificate.Length)..]);
        return data;
    }

    /// <summary>
    /// The leaf's TBSCertificate without the SCT list extension, re-encoded: removing it changes the lengths of the
    /// Extensions SEQUENCE, its [3] wrapper and the TBS SEQUENCE, so cutting bytes out would not do.
    /// </summary>
    internal static byte[] PrecertificateTbs(byte[] certificate)
    {
        try
        {
            var tbs = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadSequence();
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);
                while (tbs.HasData)
                {
                    if (tbs.PeekTag() != extensionsTag)
                    {
                        writer.WriteEncodedValue(tbs.ReadEncodedValue().Span);
                        continue;
                    }
                    var extensions = tbs.ReadSequence(extensionsTag).ReadSequence();
                    using (writer.PushSequence(extensionsTag))
                    using (writer.PushSequence())
                    {
                        while (extensions.HasData)
                        {
                            var extension = extensions.ReadEncodedValue();
                            var oid = new AsnReader(extension, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
                            if (oid != SctListOid)
                            {
                                writer.WriteEncodedValue(extension.Span);
                            }
                        }
                    }
                }
            }
            return writer.Encode();
        }
        catch (AsnContentException)
        {
            throw new ProvenanceCheckException("signing certificate TBS is malformed");
        }
    }
}
