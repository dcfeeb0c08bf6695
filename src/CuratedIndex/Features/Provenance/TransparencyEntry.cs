using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CuratedIndex.Features.Provenance;

internal sealed record InclusionProof(long LogIndex, long TreeSize, byte[] RootHash, IReadOnlyList<byte[]> Hashes, string Checkpoint);

/// <summary>
/// A Rekor TransparencyLogEntry (protobuf-JSON, camelCase, int64 as strings). <see cref="CanonicalizedBody"/> is kept
/// as the exact decoded bytes: the Merkle leaf and the SET are over them, so they are never re-serialized.
/// </summary>
internal sealed record TransparencyEntry(
    long LogIndex, byte[] LogId, string Kind, string Version, long IntegratedTime,
    byte[]? SignedEntryTimestamp, InclusionProof? Proof, byte[] CanonicalizedBody)
{
    public string KindVersion => $"{Kind}/{Version}";

    public static TransparencyEntry Parse(JsonElement entry)
    {
        const string What = "transparency entry";
        var kindVersion = SigstoreJson.Object(entry, "kindVersion", What);
        var promise = SigstoreJson.OptionalObject(entry, "inclusionPromise", What);
        var proofElement = SigstoreJson.OptionalObject(entry, "inclusionProof", What);
        InclusionProof? proof = null;
        if (proofElement is { } p)
        {
            var hashes = new List<byte[]>();
            var hashArray = SigstoreJson.OptionalArray(p, "hashes", "inclusion proof");
            foreach (var hash in hashArray is { } array ? array.EnumerateArray().ToList() : [])
            {
                if (hashes.Count >= MerkleInclusionProof.MaxHashes)
                {
                    throw new ProvenanceCheckException("inclusion proof has too many hashes");
                }
                hashes.Add(SigstoreJson.DecodeBase64(hash.ValueKind == JsonValueKind.String ? hash.GetString()! : "!", "inclusion proof hash"));
            }
            var checkpoint = SigstoreJson.OptionalObject(p, "checkpoint", "inclusion proof");
            proof = new InclusionProof(
                SigstoreJson.Int64(p, "logIndex", "inclusion proof"),
                SigstoreJson.Int64(p, "treeSize", "inclusion proof"),
                SigstoreJson.Base64(p, "rootHash", "inclusion proof"),
                hashes,
                checkpoint is { } c ? SigstoreJson.String(c, "envelope", "inclusion proof checkpoint") : "");
        }
        return new TransparencyEntry(
            SigstoreJson.Int64(entry, "logIndex", What),
            SigstoreJson.Base64(SigstoreJson.Object(entry, "logId", What), "keyId", What + " logId"),
            SigstoreJson.String(kindVersion, "kind", What + " kindVersion"),
            SigstoreJson.String(kindVersion, "version", What + " kindVersion"),
            SigstoreJson.OptionalInt64(entry, "integratedTime", What) ?? 0,
            promise is { } s ? SigstoreJson.Base64(s, "signedEntryTimestamp", "inclusion promise") : null,
            proof,
            SigstoreJson.Base64(entry, "canonicalizedBody", What));
    }

    /// <summary>
    /// The SET (Rekor v1 inclusion promise): the log's signature over the RFC 8785 canonical JSON of body, integrated
    /// time, log ID (lowercase hex) and the global log index. It is the only thing that makes integratedTime
    /// trustworthy. The values are base64, hex and integers, so a plain template is canonical.
    /// </summary>
    public void VerifySignedEntryTimestamp(TrustedLog log)
    {
        var payload = string.Create(CultureInfo.InvariantCulture,
            $"{{\"body\":\"{Convert.ToBase64String(CanonicalizedBody)}\",\"integratedTime\":{IntegratedTime},\"logID\":\"{Convert.ToHexStringLower(LogId)}\",\"logIndex\":{LogIndex}}}");
        if (!log.Key.Verify(Encoding.UTF8.GetBytes(payload), SignedEntryTimestamp))
        {
            throw new ProvenanceCheckException($"signed entry timestamp (SET) does not verify with the key of log {log.Origin}");
        }
    }

    /// <summary>
    /// The log entry must describe exactly this envelope, signature and certificate (what Rekor logged is what we
    /// verify; prevents CVE-2022-36056-style swaps). dsse/0.0.1's envelopeHash is deliberately not compared: Rekor hashed
    /// whatever JSON the client submitted, which real clients serialize differently.
    /// </summary>
    public void VerifyBodyMatches(SignedContent content, byte[] leafDer)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(CanonicalizedBody, SigstoreJson.DocumentOptions);
        }
        catch (JsonException)
        {
            throw new ProvenanceCheckException("transparency entry body is not JSON");
        }
        using (document)
        {
            const string What = "transparency entry body";
            var body = document.RootElement;
            if (SigstoreJson.String(body, "kind", What) != Kind || SigstoreJson.String(body, "apiVersion", What) != Version)
            {
                throw new ProvenanceCheckException($"transparency entry body kind is not {KindVersion}");
            }
            var spec = SigstoreJson.Object(body, "spec", What);
            switch (KindVersion, content)
            {
                case ("dsse/0.0.1", DsseContent dsse):
                    {
                        var payloadHash = SigstoreJson.Object(spec, "payloadHash", What);
                        Require(SigstoreJson.String(payloadHash, "algorithm", What) == "sha256"
                            && SigstoreJson.String(payloadHash, "value", What) == Convert.ToHexStringLower(SHA256.HashData(dsse.Payload)),
                            "payload hash is not the statement's sha256");
                        var signature = SingleSignature(spec, "signatures");
                        Require(SigstoreJson.Base64(signature, "signature", What).AsSpan().SequenceEqual(dsse.Signature), "signature is not the envelope's signature");
                        Require(PemCertificate(SigstoreJson.Base64(signature, "verifier", What)).AsSpan().SequenceEqual(leafDer), "verifier is not the signing certificate");
                        return;
                    }
                case ("dsse/0.0.2", DsseContent dsse):
                    {
                        var v2 = SigstoreJson.Object(spec, "dsseV002", What);
                        var payloadHash = SigstoreJson.Object(v2, "payloadHash", What);
                        Require(SigstoreJson.String(payloadHash, "algorithm", What) == "SHA2_256"
                            && SigstoreJson.Base64(payloadHash, "digest", What).AsSpan().SequenceEqual(SHA256.HashData(dsse.Payload)),
                            "payload hash is not the statement's sha256");
                        var signature = SingleSignature(v2, "signatures");
                        Require(SigstoreJson.Base64(signature, "content", What).AsSpan().SequenceEqual(dsse.Signature), "signature is not the envelope's signature");
                        Require(VerifierCertificate(signature).AsSpan().SequenceEqual(leafDer), "verifier is not the signing certificate");
                        return;
                    }
                case ("hashedrekord/0.0.1", MessageSignatureContent message):
                    {
                        var hash = SigstoreJson.Object(SigstoreJson.Object(spec, "data", What), "hash", What);
                        Require(SigstoreJson.String(hash, "algorithm", What) == "sha256"
                            && SigstoreJson.String(hash, "value", What) == Convert.ToHexStringLower(message.Sha256Digest),
                            "data hash is not the artifact's sha256");
                        var signature = SigstoreJson.Object(spec, "signature", What);
                        Require(SigstoreJson.Base64(signature, "content", What).AsSpan().SequenceEqual(message.Signature), "signature is not the bundle's signature");
                        var publicKey = SigstoreJson.Object(signature, "publicKey", What);
                        Require(PemCertificate(SigstoreJson.Base64(publicKey, "content", What)).AsSpan().SequenceEqual(leafDer), "public key is not the signing certificate");
                        return;
                    }
                case ("hashedrekord/0.0.2", _):
                    {
                        // Over a DSSE envelope (Rekor v2) the logged data is the PAE; over a message, the message.
                        var digest = content switch
                        {
                            DsseContent dsse => SHA256.HashData(dsse.Pae),
                            MessageSignatureContent message => message.Sha256Digest,
                            _ => [],
                        };
                        var v2 = SigstoreJson.Object(spec, "hashedRekordV002", What);
                        var data = SigstoreJson.Object(v2, "data", What);
                        Require(SigstoreJson.String(data, "algorithm", What) == "SHA2_256"
                            && SigstoreJson.Base64(data, "digest", What).AsSpan().SequenceEqual(digest),
                            "data digest is not the signed content's sha256");
                        var signature = SigstoreJson.Object(v2, "signature", What);
                        Require(SigstoreJson.Base64(signature, "content", What).AsSpan().SequenceEqual(content.Signature), "signature is not the signed content's signature");
                        Require(VerifierCertificate(signature).AsSpan().SequenceEqual(leafDer), "verifier is not the signing certificate");
                        return;
                    }
                default:
                    throw new ProvenanceCheckException($"transparency entry kind {KindVersion} is not supported for this content (PEP 740 uses dsse/0.0.1, dsse/0.0.2 and hashedrekord/0.0.2)");
            }
        }
    }

    private static JsonElement SingleSignature(JsonElement spec, string name)
    {
        var signatures = SigstoreJson.Array(spec, name, "transparency entry body");
        Require(signatures.GetArrayLength() == 1, "does not hold exactly one signature");
        return signatures[0];
    }

    private static byte[] VerifierCertificate(JsonElement signature)
    {
        const string What = "transparency entry body";
        var verifier = SigstoreJson.Object(signature, "verifier", What);
        return SigstoreJson.Base64(SigstoreJson.Object(verifier, "x509Certificate", What), "rawBytes", What);
    }

    /// <summary>DER of a PEM certificate; compared as DER because only the DER is what was signed.</summary>
    private static byte[] PemCertificate(byte[] pem)
    {
        var text = Encoding.ASCII.GetString(pem);
        if (!PemEncoding.TryFind(text, out var fields) || text[fields.Label] != "CERTIFICATE")
        {
            throw new ProvenanceCheckException("transparency entry body verifier is not a PEM certificate");
        }
        return SigstoreJson.DecodeBase64(text[fields.Base64Data], "transparency entry body verifier");
    }

    private static void Require(bool condition, string failure)
    {
        if (!condition)
        {
            throw new ProvenanceCheckException($"transparency entry body does not match the envelope: {failure}");
        }
    }
}
