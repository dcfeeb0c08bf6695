using System.Globalization;
using System.Text;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// A transparency log checkpoint in the C2SP signed-note format: <c>origin\nsize\nbase64(root)\n[extra lines]\n\n</c>
/// followed by signature lines <c>— name base64(4-byte key hint || signature)\n</c> (U+2014 EM DASH). The signed bytes
/// are the note up to and including the newline before the blank line.
/// </summary>
internal sealed record SignedCheckpoint(string Origin, long TreeSize, byte[] RootHash, byte[] Note, IReadOnlyList<CheckpointSignature> Signatures)
{
    private const int MaxSignatureLines = 32;

    public static SignedCheckpoint Parse(string envelope)
    {
        var split = envelope.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0 || envelope.IndexOf("\n\n", split + 1, StringComparison.Ordinal) >= 0)
        {
            throw new ProvenanceCheckException("checkpoint must have exactly one blank line between note and signatures");
        }
        var note = envelope[..(split + 1)];
        var lines = note[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new ProvenanceCheckException("checkpoint note must have an origin, a tree size and a root hash");
        }
        if (lines[0].Length == 0)
        {
            throw new ProvenanceCheckException("checkpoint origin is empty");
        }
        if (lines[1].Length == 0 || !lines[1].All(char.IsAsciiDigit)
            || !long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new ProvenanceCheckException("checkpoint tree size is not a decimal number");
        }
        var root = SigstoreJson.DecodeBase64(lines[2], "checkpoint root hash");
        if (root.Length != 32)
        {
            throw new ProvenanceCheckException("checkpoint root hash is not 32 bytes");
        }

        var signatures = new List<CheckpointSignature>();
        var rest = envelope[(split + 2)..];
        if (rest.Length == 0 || rest[^1] != '\n')
        {
            throw new ProvenanceCheckException("checkpoint has no signature lines");
        }
        foreach (var line in rest[..^1].Split('\n'))
        {
            if (!line.StartsWith("\u2014 ", StringComparison.Ordinal))
            {
                throw new ProvenanceCheckException("checkpoint signature line does not start with an em dash");
            }
            var lastSpace = line.LastIndexOf(' ');
            if (lastSpace <= 2)
            {
                throw new ProvenanceCheckException("checkpoint signature line has no name");
            }
            var blob = SigstoreJson.DecodeBase64(line[(lastSpace + 1)..], "checkpoint signature");
            if (blob.Length < 5)
            {
                throw new ProvenanceCheckException("checkpoint signature is too short");
            }
            signatures.Add(new CheckpointSignature(line[2..lastSpace], blob[..4], blob[4..]));
            if (signatures.Count > MaxSignatureLines)
            {
                throw new ProvenanceCheckException("checkpoint has too many signature lines");
            }
        }
        return new SignedCheckpoint(lines[0], size, root, Encoding.UTF8.GetBytes(note), signatures);
    }

    /// <summary>
    /// Requires the note to describe the proven tree (size and root) and to be signed by the log: the line whose name is
    /// the log's origin and whose key hint is the log ID's first 4 bytes. Other lines are witness co-signatures and are
    /// ignored; the log's line need not come first.
    /// </summary>
    public void Verify(TrustedLog log, long proofTreeSize, ReadOnlySpan<byte> proofRootHash)
    {
        // Rekor v1 origins are "<host> - <tree id>" (one per shard); Rekor v2 origins are the host alone.
        if (Origin != log.Origin && !Origin.StartsWith(log.Origin + " - ", StringComparison.Ordinal))
        {
            throw new ProvenanceCheckException($"checkpoint origin '{Origin}' is not log {log.Origin}");
        }
        if (TreeSize != proofTreeSize)
        {
            throw new ProvenanceCheckException($"checkpoint tree size {TreeSize} is not the inclusion proof's tree size {proofTreeSize}");
        }
        if (!proofRootHash.SequenceEqual(RootHash))
        {
            throw new ProvenanceCheckException("checkpoint root hash is not the inclusion proof's root hash");
        }
        var candidates = Signatures.Where(s => s.Name == log.Origin && s.KeyHint.AsSpan().SequenceEqual(log.LogId.AsSpan(0, 4))).ToList();
        if (candidates.Count == 0)
        {
            throw new ProvenanceCheckException($"checkpoint has no signature from log {log.Origin} with its key hint");
        }
        if (!candidates.Any(s => log.Key.Verify(Note, s.Signature)))
        {
            throw new ProvenanceCheckException($"checkpoint signature does not verify with the key of log {log.Origin}");
        }
    }
}

internal sealed record CheckpointSignature(string Name, byte[] KeyHint, byte[] Signature);
