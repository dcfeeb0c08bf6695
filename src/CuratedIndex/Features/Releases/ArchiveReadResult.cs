using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Features.Releases;

/// <summary>Why an archive was refused; the reader stops at the first one.</summary>
public enum ArchiveRefusal
{
    UnknownExtension,
    Corrupt,
    TooManyEntries,
    TotalTooLarge,
    EntryTooLarge,
    CompressionRatio,
    PathTraversal,
    AbsolutePath,
    InvalidPath,
    Symlink,
    HardLink,
    SpecialFile,
    DuplicateEntry,
}

/// <summary>
/// One regular file of an archive. <paramref name="Path"/> is normalized ('/'-separated, no '.' segments).
/// <paramref name="Text"/> is the content when it is UTF-8 text no larger than the text limit, else null
/// (binary or too large to diff).
/// </summary>
public sealed record ArchiveEntry(string Path, long Size, string Sha256, string? Text);

/// <summary>The entries of an archive, or the reason it was refused (then there are no entries).</summary>
public sealed record ArchiveReadResult
{
    private ArchiveReadResult(IReadOnlyList<ArchiveEntry> entries, ArchiveRefusal? refusal, string? reason)
    {
        Entries = entries;
        Refusal = refusal;
        Reason = reason;
    }

    public IReadOnlyList<ArchiveEntry> Entries { get; }

    public ArchiveRefusal? Refusal { get; }

    /// <summary>One line for a reviewer, naming the entry and the limit where there is one.</summary>
    public string? Reason { get; }

    [MemberNotNullWhen(true, nameof(Refusal), nameof(Reason))]
    public bool IsRefused => Refusal is not null;

    public static ArchiveReadResult Read(IReadOnlyList<ArchiveEntry> entries) => new(entries, null, null);

    public static ArchiveReadResult Refused(ArchiveRefusal refusal, string reason) => new([], refusal, reason);
}

/// <summary>Carries a refusal from deep inside a read to <see cref="ArchiveReader"/>, which turns it into a result.</summary>
internal sealed class ArchiveRefusedException(ArchiveRefusal refusal, string reason) : Exception(reason)
{
    public ArchiveRefusal Refusal { get; } = refusal;
}
