using System.Collections.Frozen;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// What a vetting vouches for (cargo-vet's criteria). <c>safe-to-deploy</c> implies <c>safe-to-run</c>: a release vetted
/// safe to deploy satisfies an environment that requires only safe to run, not the other way round.
/// </summary>
public static class VettingCriteria
{
    public const string SafeToDeploy = "safe-to-deploy";
    public const string SafeToRun = "safe-to-run";

    public static bool IsKnown(string? criteria) => criteria is SafeToDeploy or SafeToRun;

    /// <summary>True when a vetting for <paramref name="vetted"/> satisfies an environment requiring <paramref name="required"/>.</summary>
    public static bool Satisfies(string vetted, string required) => vetted == SafeToDeploy || required == SafeToRun;
}

/// <summary>How a release came to be vetted.</summary>
public static class VettingHow
{
    public const string Reviewer = "reviewer";
    public const string Policy = "policy";
    public const string Import = "import";
    public const string Auto = "auto";

    public static bool IsKnown(string? how) => how is Reviewer or Policy or Import or Auto;
}

public static class ReleaseVerdictText
{
    public const string Vetted = "vetted";
    public const string Rejected = "rejected";
}

/// <summary>A file a vetting pins: tier 3 lists and serves exactly these bytes under this name.</summary>
/// <param name="MetadataSha256">The digest of its PEP 658 metadata when vetted; tier 3 offers that metadata only with this digest.</param>
public sealed record PinnedFile(string Filename, string Sha256, long Size, string? MetadataSha256 = null);

/// <summary>The decision in force for one release: vetted (with its pinned files) or rejected.</summary>
public sealed record ReleaseVerdict(
    long DecisionId,
    string Project,
    string Version,
    bool Vetted,
    string? Criteria,
    string How,
    string Actor,
    string Reason,
    bool BreakGlass,
    string? Source,
    DateTime DecidedAt,
    FrozenDictionary<string, PinnedFile> Files)
{
    /// <summary>"vetted safe-to-deploy by reviewer alice (break-glass)", for explain and the UI.</summary>
    public string Describe()
    {
        if (!Vetted)
        {
            return $"rejected by {How} {Actor}: {Reason}";
        }

        var who = How switch
        {
            VettingHow.Policy => "by policy",
            VettingHow.Import => $"by import from {Source ?? "another organization"} ({Actor})",
            VettingHow.Auto => "automatically",
            _ => $"by reviewer {Actor}",
        };
        return $"vetted {Criteria} {who}{(BreakGlass ? " (break-glass, inside the cooldown)" : "")}";
    }

    /// <summary>The same sentence without any person's name, for index clients.</summary>
    public string DescribeForClients() => Vetted
        ? $"vetted {Criteria} by {How}{(BreakGlass ? " (break-glass)" : "")}"
        : $"rejected by a {How}: {Reason}";
}

/// <summary>
/// The release decisions in force, one per (project, normalized version), immutable: an input of the decision function next
/// to the reviewer decisions. A new instance replaces the old whenever a release is decided.
/// </summary>
public sealed record ReleaseVettings(FrozenDictionary<string, FrozenDictionary<string, ReleaseVerdict>> ByProject, long LastDecisionId)
{
    public static ReleaseVettings None { get; } = new(FrozenDictionary<string, FrozenDictionary<string, ReleaseVerdict>>.Empty, 0);

    /// <summary>The decision in force for a release; <paramref name="version"/> may be in any PEP 440 spelling.</summary>
    public ReleaseVerdict? For(string project, string version) =>
        ByProject.TryGetValue(project, out var releases) && ReleaseKey(version) is { } key
        && (releases.TryGetValue(key, out var verdict) || releases.TryGetValue(NormalizeVersion(version)!, out verdict))
            ? verdict
            : null;

    /// <summary>
    /// True when upstream's PEP 658 metadata digest for a vetted file is the one pinned with it: only then does tier 3 offer
    /// the metadata (otherwise a changed metadata file could change a vetted wheel's dependencies without touching the wheel).
    /// </summary>
    public bool MetadataIsPinned(string project, string? version, string filename, string? metadataSha256) =>
        metadataSha256 is not null
        && version is not null
        && For(project, version) is { Vetted: true } verdict
        && verdict.Files.TryGetValue(filename, out var pinned)
        && string.Equals(pinned.MetadataSha256, metadataSha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Every decided release of a project, by <see cref="ReleaseKey"/> as <see cref="Decisions.CurationStore"/> keys them (a
    /// dictionary keyed by normalized version is found too); each verdict carries its version as recorded.
    /// </summary>
    public FrozenDictionary<string, ReleaseVerdict> Of(string project) =>
        ByProject.TryGetValue(project, out var releases) ? releases : FrozenDictionary<string, ReleaseVerdict>.Empty;

    /// <summary>The PEP 440 normalized form of <paramref name="version"/>, or null when it is not a PEP 440 version.</summary>
    public static string? NormalizeVersion(string? version) =>
        Pep440Version.TryParse(version, out var parsed) ? parsed.ToString() : null;

    /// <summary>
    /// The key a release is found by: the normalized version without trailing zero release segments, because PEP 440
    /// compares 1.0 and 1.0.0 as equal and PyPI holds them as one release (<c>==1.0</c> installs 1.0.0). Null when
    /// <paramref name="version"/> is not a PEP 440 version.
    /// </summary>
    public static string? ReleaseKey(string? version)
    {
        if (NormalizeVersion(version) is not { } normalized)
        {
            return null;
        }

        // The normal form is [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]: the release segments end at the first character that is neither digit nor dot.
        var start = normalized.IndexOf('!') + 1;
        var end = start;
        while (end < normalized.Length && (char.IsAsciiDigit(normalized[end]) || (normalized[end] == '.' && end + 1 < normalized.Length && char.IsAsciiDigit(normalized[end + 1]))))
        {
            end++;
        }

        var release = normalized[start..end];
        while (release.EndsWith(".0", StringComparison.Ordinal))
        {
            release = release[..^2];
        }

        return string.Concat(normalized.AsSpan(0, start), release, normalized.AsSpan(end));
    }
}
