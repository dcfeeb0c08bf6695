using System.Buffers;

namespace CuratedIndex.Features.Typosquat;

/// <summary>
/// Optimal string alignment distance (Damerau-Levenshtein where each substring is edited at most once):
/// insertions, deletions, substitutions and transpositions of adjacent characters each cost 1.
/// </summary>
internal static class DamerauLevenshtein
{
    // Project names are at most 200 characters; rows this long fit on the stack comfortably.
    private const int StackLimit = 256;

    /// <summary>
    /// The distance between <paramref name="a"/> and <paramref name="b"/>, or <paramref name="maxDistance"/> + 1
    /// as soon as it is certain to exceed <paramref name="maxDistance"/>.
    /// </summary>
    public static int Distance(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int maxDistance = int.MaxValue - 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDistance);

        // A shared prefix or suffix never changes the distance, and trimming it keeps the matrix tiny for near-misses.
        var prefix = a.CommonPrefixLength(b);
        a = a[prefix..];
        b = b[prefix..];
        var suffix = CommonSuffixLength(a, b);
        a = a[..^suffix];
        b = b[..^suffix];

        if (a.Length < b.Length)
        {
            var swap = a;
            a = b;
            b = swap;
        }

        // b is now the shorter; the length difference alone is a lower bound.
        if (a.Length - b.Length > maxDistance)
        {
            return maxDistance + 1;
        }

        if (b.Length == 0)
        {
            return a.Length;
        }

        var width = b.Length + 1;
        int[]? rented = null;
        var buffer = 3 * width <= StackLimit ? stackalloc int[3 * width] : (rented = ArrayPool<int>.Shared.Rent(3 * width));
        try
        {
            return Compute(a, b, maxDistance, buffer[..(3 * width)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private static int Compute(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int maxDistance, Span<int> buffer)
    {
        var width = b.Length + 1;
        var beforePrevious = buffer[..width];
        var previous = buffer.Slice(width, width);
        var current = buffer.Slice(2 * width, width);
        for (var j = 0; j < width; j++)
        {
            previous[j] = j;
        }

        var previousMin = 0;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMin = i;
            for (var j = 1; j < width; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, beforePrevious[j - 2] + 1);
                }

                current[j] = value;
                rowMin = Math.Min(rowMin, value);
            }

            // Every later cell derives from this row (+0 or more) or, by a transposition, from the previous row (+1):
            // once both are past the cut-off the answer is too.
            if (rowMin > maxDistance && previousMin >= maxDistance)
            {
                return maxDistance + 1;
            }

            previousMin = rowMin;
            var recycled = beforePrevious;
            beforePrevious = previous;
            previous = current;
            current = recycled;
        }

        var distance = previous[width - 1];
        return distance > maxDistance ? maxDistance + 1 : distance;
    }

    private static int CommonSuffixLength(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var n = Math.Min(a.Length, b.Length);
        var k = 0;
        while (k < n && a[a.Length - 1 - k] == b[b.Length - 1 - k])
        {
            k++;
        }

        return k;
    }
}
