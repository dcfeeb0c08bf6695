using System.Security.Cryptography;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// RFC 6962 / RFC 9162 §2.1.3.2 inclusion proof: the entry's exact canonicalized body bytes are leaf
/// <c>index</c> of the tree of <c>treeSize</c> leaves whose root is <c>rootHash</c>. The index is the shard-local one
/// from the proof, never the entry's global log index.
/// </summary>
internal static class MerkleInclusionProof
{
    // A tree of 2^63 leaves needs 63 hashes; anything longer is not a proof.
    public const int MaxHashes = 64;

    public static byte[] LeafHash(ReadOnlySpan<byte> leaf)
    {
        var buffer = new byte[leaf.Length + 1];
        leaf.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }

    /// <summary>Null when the proof holds, otherwise why not.</summary>
    public static string? Verify(ReadOnlySpan<byte> leaf, long index, long treeSize, IReadOnlyList<byte[]> hashes, ReadOnlySpan<byte> rootHash)
    {
        if (index < 0 || treeSize <= 0 || index >= treeSize)
        {
            return $"inclusion proof index {index} is not inside the tree of size {treeSize}";
        }
        if (hashes.Count > MaxHashes)
        {
            return "inclusion proof has too many hashes";
        }
        var fn = index;
        var sn = treeSize - 1;
        var node = LeafHash(leaf);
        foreach (var sibling in hashes)
        {
            if (sibling.Length != 32)
            {
                return "inclusion proof hash is not 32 bytes";
            }
            if (sn == 0)
            {
                return "inclusion proof is longer than the path to the root";
            }
            if ((fn & 1) == 1 || fn == sn)
            {
                node = Interior(sibling, node);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                node = Interior(node, sibling);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0)
        {
            return "inclusion proof is shorter than the path to the root";
        }
        return node.AsSpan().SequenceEqual(rootHash) ? null : "inclusion proof does not reach the checkpoint's root hash";
    }

    private static byte[] Interior(byte[] left, byte[] right)
    {
        Span<byte> buffer = stackalloc byte[65];
        buffer[0] = 1;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[33..]);
        return SHA256.HashData(buffer);
    }
}
