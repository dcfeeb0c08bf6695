namespace CuratedIndex.Features.Provenance;

/// <summary>The signed material of one attestation or bundle, in the form both entry points share.</summary>
internal sealed record SignedMaterial(byte[] CertificateDer, TransparencyEntry Entry, IReadOnlyList<byte[]> Timestamps, SignedContent Content);

/// <summary>What the transparency log and timestamps prove about verified material.</summary>
internal sealed record VerifiedMaterial(FulcioCertificate Certificate, TrustedLog Log, long LogIndex, DateTimeOffset SignedAt);

/// <summary>
/// The Sigstore checks every attestation and bundle goes through, in PROVENANCE.md's order (the log and its signed
/// times first, since the certificate can only be judged at a signed time): log lookup, inclusion proof, checkpoint,
/// SET and RFC 3161 timestamps, certificate chain at each signed time, Fulcio leaf profile, embedded SCT, the leaf's
/// signature, and the log entry ↔ envelope consistency. One implementation of each check, for both entry points.
/// </summary>
internal static class SigstoreVerification
{
    /// <summary>Signed times up to this much later than the verifier's clock are tolerated (clock skew).</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    // Real attestations carry one timestamp; a few allow for multiple TSAs while bounding the work.
    public const int MaxTimestamps = 4;

    private static readonly HashSet<string> SupportedKinds = ["dsse/0.0.1", "dsse/0.0.2", "hashedrekord/0.0.1", "hashedrekord/0.0.2"];

    public static VerifiedMaterial Verify(SignedMaterial material, TrustedRoot root, DateTimeOffset now)
    {
        var entry = material.Entry;
        if (!SupportedKinds.Contains(entry.KindVersion))
        {
            throw new ProvenanceCheckException($"transparency entry kind {entry.KindVersion} is not supported (PEP 740 never uses it)");
        }
        if (entry.LogIndex < 0)
        {
            throw new ProvenanceCheckException($"transparency entry log index {entry.LogIndex} is negative");
        }
        var proof = entry.Proof ?? throw new ProvenanceCheckException("transparency entry has no inclusion proof");
        if (proof.Checkpoint.Length == 0)
        {
            throw new ProvenanceCheckException("transparency entry inclusion proof has no checkpoint");
        }
        var log = root.FindLog(entry.LogId)
            ?? throw new ProvenanceCheckException($"log id {Convert.ToHexStringLower(entry.LogId)} not in trusted root");

        if (MerkleInclusionProof.Verify(entry.CanonicalizedBody, proof.LogIndex, proof.TreeSize, proof.Hashes, proof.RootHash) is { } proofFailure)
        {
            throw new ProvenanceCheckException(proofFailure);
        }
        SignedCheckpoint.Parse(proof.Checkpoint).Verify(log, proof.TreeSize, proof.RootHash);

        var signedTimes = new List<DateTimeOffset>();
        DateTimeOffset? integratedTime = null;
        if (entry.SignedEntryTimestamp is not null)
        {
            entry.VerifySignedEntryTimestamp(log);
            if (entry.IntegratedTime <= 0 || entry.IntegratedTime > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            {
                throw new ProvenanceCheckException($"integrated time {entry.IntegratedTime} is not a time");
            }
            integratedTime = DateTimeOffset.FromUnixTimeSeconds(entry.IntegratedTime);
            signedTimes.Add(integratedTime.Value);
        }
        if (material.Timestamps.Count > MaxTimestamps)
        {
            throw new ProvenanceCheckException($"more than {MaxTimestamps} RFC 3161 timestamps");
        }
        foreach (var timestamp in material.Timestamps)
        {
            signedTimes.Add(Rfc3161Timestamps.Verify(timestamp, material.Content.Signature, root));
        }
        if (signedTimes.Count == 0)
        {
            throw new ProvenanceCheckException("no signed time: neither a signed entry timestamp (SET) nor an RFC 3161 timestamp");
        }
        foreach (var time in signedTimes)
        {
            if (time > now + ClockSkew)
            {
                throw new ProvenanceCheckException($"signed time {time:O} is after the verifier's clock {now:O}");
            }
            if (!log.Validity.Covers(time))
            {
                throw new ProvenanceCheckException($"log {log.Origin}'s key is not valid at signed time {time:O} (valid {log.Validity})");
            }
        }

        var certificate = FulcioCertificate.Load(material.CertificateDer);
        System.Security.Cryptography.X509Certificates.X509Certificate2? issuer = null;
        foreach (var time in signedTimes)
        {
            issuer = certificate.VerifyChain(root, time);
        }
        certificate.VerifyLeafProfile();
        CertificateTimestamps.Verify(certificate.Certificate, issuer!, root);

        var signatureVerifies = material.Content switch
        {
            DsseContent dsse => certificate.VerifySignature(dsse.Pae, default, dsse.Signature, prehashed: false),
            MessageSignatureContent message => certificate.VerifySignature(default, message.Sha256Digest, message.Signature, prehashed: true),
            _ => false,
        };
        if (!signatureVerifies)
        {
            throw new ProvenanceCheckException(material.Content is DsseContent
                ? "DSSE signature does not verify with the signing certificate's key"
                : "message signature does not verify with the signing certificate's key");
        }
        entry.VerifyBodyMatches(material.Content, material.CertificateDer);

        return new VerifiedMaterial(certificate, log, entry.LogIndex, integratedTime ?? signedTimes.Min());
    }
}
