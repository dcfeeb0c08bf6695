using System.Text;
using System.Text.RegularExpressions;
using CuratedIndex.Protocol;
using DiffPlex;
using DiffPlex.Renderer;

namespace CuratedIndex.Features.Releases;

/// <summary>A distribution file of a release and the entries <see cref="ArchiveReader"/> read from it.</summary>
public sealed record ReleaseArchive(string Filename, IReadOnlyList<ArchiveEntry> Entries);

public enum FileChange
{
    Added,
    Removed,
    Changed,
}

/// <summary>
/// One file that differs. Paths are aligned across versions (see <see cref="ReleaseDiff.AlignedPath"/>).
/// <paramref name="IsText"/> is false when either side is binary or over the text limit: then there are no line counts.
/// <paramref name="UnifiedDiff"/> is set for added and changed text files, at most the cap in lines.
/// </summary>
public sealed record FileDiff(string Path, FileChange Change, bool IsText, int LinesAdded, int LinesRemoved, string? UnifiedDiff, bool DiffTruncated)
{
    /// <summary>Lines a reviewer must read here: the new and changed lines of a text file (all of an added one).</summary>
    public int LinesToRead => IsText && Change != FileChange.Removed ? LinesAdded : 0;
}

/// <summary>The difference inside one archive kind (a wheel tag set, or the sdist); a side is null when that release lacks it.</summary>
public sealed record ArchiveDiff(string Kind, string? OldFilename, string? NewFilename, IReadOnlyList<FileDiff> Files, int UnchangedCount)
{
    public IEnumerable<FileDiff> Added => Files.Where(f => f.Change == FileChange.Added);

    public IEnumerable<FileDiff> Removed => Files.Where(f => f.Change == FileChange.Removed);

    public IEnumerable<FileDiff> Changed => Files.Where(f => f.Change == FileChange.Changed);

    public long LinesToRead => Files.Sum(f => (long)f.LinesToRead);
}

/// <param name="HasBaseline">False when there was no earlier vetted release: every file counts as added.</param>
public sealed record ReleaseDiffResult(IReadOnlyList<ArchiveDiff> Archives, bool HasBaseline)
{
    /// <summary>As cargo-vet's diff reports it: the lines a reviewer must read to vet the new release.</summary>
    public long LinesToRead => Archives.Sum(a => a.LinesToRead);
}

/// <summary>
/// Compares the files of the last vetted release with a new release's, archive by archive: wheels pair by
/// tag set, sdists with sdists; paths drop the version so they line up across versions.
/// </summary>
public static partial class ReleaseDiff
{
    public const int DefaultMaxDiffLines = 2000;

    /// <summary>Differing lines (old plus new, after the common start and end) that are still aligned line by line.</summary>
    public const int MaxAlignedLines = 5000;

    private const int ContextLines = 3;

    /// <param name="vetted">The last vetted release's archives; empty when nothing was vetted before.</param>
    public static ReleaseDiffResult Compute(IReadOnlyList<ReleaseArchive> vetted, IReadOnlyList<ReleaseArchive> candidate, int maxDiffLines = DefaultMaxDiffLines)
    {
        var archives = new List<ArchiveDiff>();
        foreach (var (kind, oldArchive, newArchive) in Pair(vetted, candidate))
        {
            archives.Add(DiffArchive(kind, oldArchive, newArchive, maxDiffLines));
        }

        return new ReleaseDiffResult(archives, vetted.Count > 0);
    }

    /// <summary>
    /// The path inside an archive without its version: an sdist's single top directory (<c>name-1.0/</c>)
    /// goes, and a wheel's <c>name-1.0.dist-info/</c> and <c>name-1.0.data/</c> become <c>name.dist-info/</c>, <c>name.data/</c>.
    /// </summary>
    public static string AlignedPath(string path, DistributionKind kind, string? sdistTopDirectory)
    {
        if (kind == DistributionKind.Sdist)
        {
            return sdistTopDirectory is not null && path.StartsWith(sdistTopDirectory + "/", StringComparison.Ordinal)
                ? path[(sdistTopDirectory.Length + 1)..]
                : path;
        }

        return WheelVersionedDirectory().Replace(path, "$1.$2", 1);
    }

    /// <summary>The one directory every entry of an sdist sits in, or null when there is none.</summary>
    public static string? SdistTopDirectory(IReadOnlyList<ArchiveEntry> entries)
    {
        if (entries.Count == 0)
        {
            return null;
        }

        var slash = entries[0].Path.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return null;
        }

        var top = entries[0].Path[..slash];
        return entries.All(e => e.Path.StartsWith(top + "/", StringComparison.Ordinal)) ? top : null;
    }

    /// <summary>
    /// Wheels pair by their tag set, sdists with sdists. What is left pairs when it is alone on both sides with
    /// the same ABI and platform (<c>py2.py3-none-any</c> then <c>py3-none-any</c>), or is the only sdist.
    /// </summary>
    internal static List<(string Kind, ReleaseArchive? Old, ReleaseArchive? New)> Pair(IReadOnlyList<ReleaseArchive> vetted, IReadOnlyList<ReleaseArchive> candidate)
    {
        var unmatchedOld = vetted.ToList();
        var unmatchedNew = new List<ReleaseArchive>();
        var pairs = new List<(string, ReleaseArchive?, ReleaseArchive?)>();
        foreach (var archive in candidate.OrderBy(a => a.Filename, StringComparer.Ordinal))
        {
            var match = unmatchedOld.FirstOrDefault(o => KindOf(o.Filename).Exact == KindOf(archive.Filename).Exact);
            if (match is null)
            {
                unmatchedNew.Add(archive);
                continue;
            }

            unmatchedOld.Remove(match);
            pairs.Add((KindOf(archive.Filename).Exact, match, archive));
        }

        var looseNew = unmatchedNew.ToLookup(n => KindOf(n.Filename).Loose);
        foreach (var archive in unmatchedNew)
        {
            var loose = KindOf(archive.Filename).Loose;
            var candidates = unmatchedOld.Where(o => KindOf(o.Filename).Loose == loose).ToList();
            var match = candidates.Count == 1 && looseNew[loose].Count() == 1 ? candidates[0] : null;
            if (match is not null)
            {
                unmatchedOld.Remove(match);
            }

            pairs.Add((KindOf(archive.Filename).Exact, match, archive));
        }

        pairs.AddRange(unmatchedOld.Select(o => (KindOf(o.Filename).Exact, (ReleaseArchive?)o, (ReleaseArchive?)null)));
        return pairs;
    }

    /// <summary>
    /// Exact: "sdist", or a wheel's tag set (<c>py3-none-any</c>). Loose: "sdist", or a wheel's ABI and platform
    /// tags. A filename that does not parse is its own kind.
    /// </summary>
    internal static (string Exact, string Loose) KindOf(string filename)
    {
        if (!DistributionFilename.TryParse(filename, null, out var parsed))
        {
            return (filename, filename);
        }

        if (parsed.Kind == DistributionKind.Wheel)
        {
            var abiAndPlatform = $"{string.Join('.', parsed.AbiTags)}-{string.Join('.', parsed.PlatformTags)}";
            return ($"{string.Join('.', parsed.PythonTags)}-{abiAndPlatform}", "wheel " + abiAndPlatform);
        }

        return parsed.Kind == DistributionKind.Sdist ? ("sdist", "sdist") : (filename, filename);
    }

    private static DistributionKind? FamilyOf(string filename) =>
        DistributionFilename.TryParse(filename, null, out var parsed) ? parsed.Kind : null;

    private static ArchiveDiff DiffArchive(string kind, ReleaseArchive? oldArchive, ReleaseArchive? newArchive, int maxDiffLines)
    {
        var oldFiles = Aligned(oldArchive);
        var newFiles = Aligned(newArchive);
        var files = new List<FileDiff>();
        var unchanged = 0;
        foreach (var (path, entry) in newFiles.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!oldFiles.TryGetValue(path, out var before))
            {
                files.Add(DiffText(path, FileChange.Added, null, entry, maxDiffLines));
            }
            else if (before.Sha256 != entry.Sha256)
            {
                files.Add(DiffText(path, FileChange.Changed, before, entry, maxDiffLines));
            }
            else
            {
                unchanged++;
            }
        }

        foreach (var (path, entry) in oldFiles.Where(p => !newFiles.ContainsKey(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var isText = entry.Text is not null;
            files.Add(new FileDiff(path, FileChange.Removed, isText, 0, isText ? Lines(entry.Text!).Count : 0, null, false));
        }

        return new ArchiveDiff(kind, oldArchive?.Filename, newArchive?.Filename, files, unchanged);
    }

    private static Dictionary<string, ArchiveEntry> Aligned(ReleaseArchive? archive)
    {
        var result = new Dictionary<string, ArchiveEntry>(StringComparer.Ordinal);
        if (archive is null)
        {
            return result;
        }

        var kind = FamilyOf(archive.Filename) ?? DistributionKind.Other;
        var top = kind == DistributionKind.Sdist ? SdistTopDirectory(archive.Entries) : null;
        foreach (var entry in archive.Entries)
        {
            // ArchiveReader refuses duplicates, so aligned paths are unique too; TryAdd keeps the first if not.
            result.TryAdd(AlignedPath(entry.Path, kind, top), entry);
        }

        return result;
    }

    /// <summary>Line counts and a capped unified diff; an added file is a diff against nothing.</summary>
    private static FileDiff DiffText(string path, FileChange change, ArchiveEntry? before, ArchiveEntry after, int maxDiffLines)
    {
        // A changed file whose old side was binary or too large is read in full, like an added one.
        var oldText = change == FileChange.Added || before?.Text is null ? "" : before.Text;
        if (after.Text is null)
        {
            return new FileDiff(path, change, false, 0, 0, null, false);
        }

        var oldName = oldText.Length == 0 ? "/dev/null" : "a/" + path;
        var oldLines = Lines(oldText);
        var newLines = Lines(after.Text);
        var prefix = 0;
        while (prefix < oldLines.Count && prefix < newLines.Count && oldLines[prefix] == newLines[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < oldLines.Count - prefix && suffix < newLines.Count - prefix && oldLines[^(suffix + 1)] == newLines[^(suffix + 1)])
        {
            suffix++;
        }

        var oldMiddle = oldLines.Count - prefix - suffix;
        var newMiddle = newLines.Count - prefix - suffix;
        if (oldMiddle + newMiddle > MaxAlignedLines)
        {
            // Aligning costs up to the square of the differing lines (a release can make that minutes): past the cap
            // the whole differing region counts as replaced, which never counts fewer lines to read than there are.
            var note = oldMiddle > 0 ? $" {oldMiddle + newMiddle} differing lines, too many to align: shown as replaced" : "";
            var replaced = new StringBuilder($"--- {oldName}\n+++ b/{path}\n@@ -{HunkStart(prefix, oldMiddle)},{oldMiddle} +{HunkStart(prefix, newMiddle)},{newMiddle} @@{note}\n");
            oldLines.Skip(prefix).Take(oldMiddle).ToList().ForEach(l => replaced.Append('-').Append(l).Append('\n'));
            newLines.Skip(prefix).Take(newMiddle).ToList().ForEach(l => replaced.Append('+').Append(l).Append('\n'));
            var (cappedReplaced, truncatedReplaced) = Capped(replaced.ToString(), maxDiffLines);
            return new FileDiff(path, change, true, newMiddle, oldMiddle, cappedReplaced, truncatedReplaced);
        }

        var result = Differ.Instance.CreateDiffs(oldText, after.Text, ignoreWhiteSpace: false, ignoreCase: false, LineSplitter.Instance);
        var added = result.DiffBlocks.Sum(b => b.InsertCountB);
        var removed = result.DiffBlocks.Sum(b => b.DeleteCountA);
        var unified = new UnidiffRenderer(Differ.Instance, ContextLines).Generate(result, oldName, "b/" + path);
        var (diff, truncated) = Capped(EmptySideStartsAtZero().Replace(unified, m => $"{m.Groups[1].Value}0,0"), maxDiffLines);
        return new FileDiff(path, change, true, added, removed, diff, truncated);
    }

    /// <summary>Unified diff numbers lines from 1; a side with no lines names the line before (0 at the top).</summary>
    private static int HunkStart(int prefix, int count) => count == 0 ? prefix : prefix + 1;

    private static (string Diff, bool Truncated) Capped(string unified, int maxLines)
    {
        var lines = Lines(unified);
        if (lines.Count <= maxLines)
        {
            return (unified, false);
        }

        var kept = string.Join('\n', lines.Take(maxLines));
        return ($"{kept}\n... diff truncated: {lines.Count - maxLines} more lines not shown\n", true);
    }

    /// <summary>Lines split on '\n'; a final newline does not start another line.</summary>
    internal static List<string> Lines(string text)
    {
        var lines = text.Split('\n').ToList();
        if (lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    // DiffPlex writes "@@ -1,0 +1,5 @@" for a side with no lines; unified diff (and patch) expect 0 there.
    [GeneratedRegex(@"(?<=^@@ [^@]*)([-+])1,0(?= )", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex EmptySideStartsAtZero();

    [GeneratedRegex(@"^([^/]+)-[^-/]+\.(dist-info|data)(?=/|$)", RegexOptions.CultureInvariant)]
    private static partial Regex WheelVersionedDirectory();

    private sealed class LineSplitter : IChunker
    {
        public static readonly LineSplitter Instance = new();

        public IReadOnlyList<string> Chunk(string text) => Lines(text);
    }
}
