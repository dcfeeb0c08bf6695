using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// One requirement read from a lock file (a pip requirements file or a PEP 751 <c>pylock.toml</c>).
/// </summary>
/// <param name="File">The file it was read from, as given (includes: joined to the including file's folder).</param>
/// <param name="Line">1-based line where the requirement starts.</param>
/// <param name="Text">The requirement as written without its options (continuations joined, comment stripped), for messages.</param>
/// <param name="Name">The PEP 503 normalized project name.</param>
/// <param name="Specifier">The version specifier set (empty when the line names no version).</param>
/// <param name="Sha256">Lower-case sha256 hex digests the file allows, deduplicated, in file order.</param>
/// <param name="Extras">Normalized extras, e.g. <c>socks</c> for <c>requests[socks]</c>.</param>
/// <param name="Marker">The environment marker text after <c>;</c>, or null.</param>
/// <param name="Files">Files the lock names with their hashes (pylock.toml); empty for requirements files, which name only hashes.</param>
/// <param name="IsConstraint">True when it comes from a <c>-c</c> constraints file: it bounds a version, it installs nothing.</param>
public sealed record LockFileRequirement(
    string File,
    int Line,
    string Text,
    string Name,
    VersionSpecifierSet Specifier,
    IReadOnlyList<string> Sha256,
    IReadOnlyList<string> Extras,
    string? Marker,
    IReadOnlyList<LockedFile> Files,
    bool IsConstraint)
{
    /// <summary>The pinned version when the specifier is a single <c>==</c> without a wildcard, else null.</summary>
    public Pep440Version? PinnedVersion => Specifier.ExactVersion;

    /// <summary>The specifier as text, e.g. <c>==3.0.3</c> or <c>&lt;3,&gt;=2</c>; empty when unbounded.</summary>
    public string SpecifierText => Specifier.ToString();

    /// <summary><c>file:line</c>, the prefix of every message about this requirement.</summary>
    public string Location => $"{File}:{Line}";
}

/// <summary>A distribution file a pylock.toml names: its filename, sha256 and size when given.</summary>
public sealed record LockedFile(string Filename, string Sha256, long? Size);

/// <summary>Something a reader could not use (<see cref="IsError"/>) or wants the user to know.</summary>
public sealed record LockFileProblem(string File, int Line, string Message, bool IsError)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>
/// What a lock file held. Bad input never throws: it shows up in <see cref="Errors"/>, and the requirements
/// that could be read are still listed so that a caller can report every problem at once.
/// </summary>
public sealed record LockFileReadResult(IReadOnlyList<LockFileRequirement> Requirements, IReadOnlyList<LockFileProblem> Problems)
{
    public IEnumerable<LockFileProblem> Errors => Problems.Where(p => p.IsError);

    public IEnumerable<LockFileProblem> Notes => Problems.Where(p => !p.IsError);

    /// <summary>True when every line was understood; a caller must refuse to act on a file with errors.</summary>
    public bool IsValid => !Problems.Any(p => p.IsError);
}
