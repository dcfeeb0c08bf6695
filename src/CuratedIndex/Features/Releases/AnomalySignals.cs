using System.Globalization;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>One file of a release as CuratedIndex knows it.</summary>
/// <param name="UploadTime">Upstream's PEP 700 upload-time, or null when upstream gave none.</param>
/// <param name="FirstSeenAt">When CuratedIndex first saw this file (UTC).</param>
public sealed record ReleaseFileFacts(string Filename, string? Sha256, long? Size, DateTimeOffset? UploadTime, DateTime FirstSeenAt);

/// <summary>One release of a project as CuratedIndex knows it.</summary>
/// <param name="FirstSeenAt">When CuratedIndex first saw this release (UTC).</param>
/// <param name="Roster">
/// The author/maintainer names and emails from the JSON API for this version (see <see cref="AnomalySignals.Roster"/>),
/// or null when unknown.
/// </param>
public sealed record ReleaseFacts(string Version, IReadOnlyList<ReleaseFileFacts> Files, DateTime FirstSeenAt, IReadOnlyList<string>? Roster = null);

/// <summary>A reason to look at a release before anyone vets it.</summary>
/// <param name="Kind">One of the <see cref="AnomalySignalKind"/> constants.</param>
/// <param name="Evidence">One or two sentences a reviewer reads, naming the numbers, files and dates.</param>
public sealed record AnomalySignal(string Kind, string Evidence);

/// <summary>The stable keys of <see cref="AnomalySignal.Kind"/>; stored, so never renamed.</summary>
public static class AnomalySignalKind
{
    public const string FilesAddedLater = "files-added-later";
    public const string VersionJump = "version-jump";
    public const string PlatformWheelsChanged = "platform-wheels-changed";
    public const string SizeChanged = "size-changed";
    public const string InstallTimeCode = "install-time-code";
    public const string DormantRevived = "dormant-revived";
    public const string RosterChanged = "roster-changed";
    public const string UnusualVersionForm = "unusual-version-form";

    // Provenance signals (ProvenanceSignals), computed from what CuratedIndex itself verified.
    public const string ProvenanceRegression = "provenance-regression";
    public const string PublisherChanged = "publisher-changed";
    public const string PublisherKindChanged = "publisher-kind-changed";
    public const string ProvenanceFailed = "provenance-failed";

    public static readonly IReadOnlyList<string> All =
    [
        FilesAddedLater, VersionJump, PlatformWheelsChanged, SizeChanged, InstallTimeCode, DormantRevived, RosterChanged, UnusualVersionForm,
        ProvenanceRegression, PublisherChanged, PublisherKindChanged, ProvenanceFailed,
    ];
}

/// <summary>
/// Compares a release with the project's earlier releases and names what a reviewer should look at. Pure: no clock,
/// no I/O; the same facts always give the same signals, at most one per kind, in the order of <see cref="AnomalySignalKind.All"/>.
/// "The previous release" is the newest earlier release with a lower PEP 440 version (for file-based signals: the
/// newest such release with files); earlier releases whose version is not PEP 440 are ignored for it.
/// A release first seen while CI is still uploading its wheels looks as if it lost them (platform-wheels-changed,
/// install-time-code, size-changed): compute again once the late-file grace has passed and before vetting.
/// </summary>
public static class AnomalySignals
{
    /// <summary>CI pipelines upload wheels over hours; a file this much later than its release is "added later".</summary>
    public static readonly TimeSpan DefaultLateFileGrace = TimeSpan.FromHours(24);

    /// <summary>A version's major may grow by at most this much over the previous release's (setuptools 59 → 60 is one).</summary>
    public const int MaxMajorStep = 3;

    /// <summary>A size ratio to the previous release beyond this (either way) is a signal.</summary>
    public const double MaxSizeRatio = 3.0;

    /// <summary>A silence longer than this many years before a release is a signal.</summary>
    public const int DormantYears = 2;

    // A first release segment this large is a year or a date (2023.1, 20230101), not a semantic major.
    private const long DateLikeMajor = 1000;

    private static readonly string[] LinuxFamilies = ["manylinux", "musllinux"];

    // Files named at most this many per evidence sentence.
    private const int MaxNamedFiles = 5;

    /// <summary>The signals for <paramref name="release"/> of <paramref name="project"/> given the releases known before it.</summary>
    /// <param name="earlier">The project's other releases known before this one, in any order.</param>
    /// <param name="lateFileGrace">How much later than the release a file may appear; default <see cref="DefaultLateFileGrace"/>.</param>
    public static IReadOnlyList<AnomalySignal> Detect(string project, ReleaseFacts release, IReadOnlyList<ReleaseFacts> earlier, TimeSpan? lateFileGrace = null)
    {
        var others = earlier.Where(e => e.Version != release.Version).ToList();
        var version = Pep440Version.TryParse(release.Version, out var parsed) ? parsed : null;
        var lower = version is null
            ? []
            : others
                .Select(e => (Facts: e, Version: Pep440Version.TryParse(e.Version, out var v) ? v : null))
                .Where(e => e.Version is not null && e.Version < version)
                .OrderByDescending(e => e.Version)
                .Select(e => e.Facts)
                .ToList();
        var previous = lower.FirstOrDefault();
        var previousWithFiles = lower.FirstOrDefault(e => e.Files.Count > 0);

        var signals = new List<AnomalySignal?>
        {
            FilesAddedLater(release, lateFileGrace ?? DefaultLateFileGrace),
            version is null || previous is null ? null : VersionJump(release, version, previous, others),
            previousWithFiles is null ? null : PlatformWheelsChanged(project, release, previousWithFiles),
            previousWithFiles is null ? null : SizeChanged(release, previousWithFiles),
            previousWithFiles is null ? null : InstallTimeCode(project, release, previousWithFiles),
            DormantRevived(release, others),
            RosterChanged(release, lower.FirstOrDefault(e => e.Roster is not null)),
            version is null ? null : UnusualVersionForm(release, version, others),
        };
        return signals.OfType<AnomalySignal>().ToList();
    }

    /// <summary>
    /// A release's roster from the JSON API's <c>info</c>: each of author, author_email, maintainer and
    /// maintainer_email split on commas, trimmed, empty parts dropped. Comparison ignores case and order.
    /// </summary>
    public static IReadOnlyList<string> Roster(string? author, string? authorEmail, string? maintainer, string? maintainerEmail) =>
        new[] { author, authorEmail, maintainer, maintainerEmail }
            .SelectMany(field => (field ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToList();

    /// <summary>
    /// files-added-later: a file that appeared more than the grace period after its release, by our clock (its first
    /// sight against the release's) or by upstream's (its upload-time against the release's earliest upload-time).
    /// </summary>
    private static AnomalySignal? FilesAddedLater(ReleaseFacts release, TimeSpan grace)
    {
        var releaseSeen = Utc(release.FirstSeenAt);
        var firstUpload = release.Files.Select(f => f.UploadTime).Where(t => t is not null).Min();
        var late = new List<string>();
        foreach (var file in release.Files)
        {
            var bySight = Utc(file.FirstSeenAt) - releaseSeen;
            var byUpload = file.UploadTime - firstUpload;
            if (bySight > grace)
            {
                late.Add($"{file.Filename} (first seen {Describe(bySight)} after the release, at {Format(Utc(file.FirstSeenAt))})");
            }
            else if (byUpload > grace)
            {
                late.Add($"{file.Filename} (uploaded {Describe(byUpload.Value)} after the release's first file, at {Format(file.UploadTime!.Value)})");
            }
        }

        return late.Count == 0
            ? null
            : new AnomalySignal(
                AnomalySignalKind.FilesAddedLater,
                $"{late.Count} of {release.Files.Count} files appeared more than {Describe(grace)} after the release "
                + $"(first seen {Format(releaseSeen)}): {Names(late)}.");
    }

    /// <summary>
    /// version-jump, against the previous release p (lower version) of this release v:
    /// (1) the epoch differs from p's; (2) v's major is date-like (≥ 1000: 2023.1, 20230101) while p's is not and no
    /// earlier release had a date-like major (a switch to calendar versions); (3) both majors are date-like and v's
    /// year (its first four digits) is after the year after the release (9999.0 on a calendar-versioned project);
    /// (4) neither is date-like and v's major exceeds p's by more than <see cref="MaxMajorStep"/> (1.2 → 9.0;
    /// setuptools 59 → 60 and 0.9 → 3.0 are fine).
    /// </summary>
    private static AnomalySignal? VersionJump(ReleaseFacts release, Pep440Version version, ReleaseFacts previous, List<ReleaseFacts> others)
    {
        var before = Pep440Version.Parse(previous.Version);
        string? why = null;
        if (version.Epoch != before.Epoch)
        {
            why = $"the epoch changes from {before.Epoch} to {version.Epoch}";
        }
        else
        {
            var major = Major(version);
            var previousMajor = Major(before);
            if (major >= DateLikeMajor && previousMajor < DateLikeMajor)
            {
                var calendarBefore = others.Any(e => Pep440Version.TryParse(e.Version, out var v) && Major(v) >= DateLikeMajor);
                why = calendarBefore ? null : $"the major jumps from {previousMajor} to {major}, a calendar version the project never used";
            }
            else if (major >= DateLikeMajor)
            {
                var year = long.Parse(major.ToString(CultureInfo.InvariantCulture)[..4], CultureInfo.InvariantCulture);
                var releasedIn = ReleaseTime(release).Year;
                why = year > releasedIn + 1 ? $"its year {year} is after the year of the release ({releasedIn})" : null;
            }
            else if (major - previousMajor > MaxMajorStep)
            {
                why = $"the major jumps by {major - previousMajor} (more than {MaxMajorStep})";
            }
        }

        return why is null
            ? null
            : new AnomalySignal(AnomalySignalKind.VersionJump, $"{release.Version} follows {previous.Version}: {why}.");
    }

    /// <summary>
    /// platform-wheels-changed: the set of operating system + architecture pairs the wheels cover differs from the
    /// previous release's. Python and ABI tags are ignored (cp311 → cp312 is normal), and so are the OS version
    /// parts (manylinux2014 → manylinux_2_28, macosx_10_9 → macosx_11_0); none-any counts as no platform.
    /// </summary>
    private static AnomalySignal? PlatformWheelsChanged(string project, ReleaseFacts release, ReleaseFacts previous)
    {
        var now = Platforms(project, release);
        var before = Platforms(project, previous);
        var added = now.Except(before).Order(StringComparer.Ordinal).ToList();
        var missing = before.Except(now).Order(StringComparer.Ordinal).ToList();
        if (added.Count == 0 && missing.Count == 0)
        {
            return null;
        }

        var parts = new List<string>();
        if (added.Count > 0)
        {
            parts.Add($"new platform wheels for {string.Join(", ", added)}");
        }

        if (missing.Count > 0)
        {
            parts.Add($"no wheels any more for {string.Join(", ", missing)}");
        }

        return new AnomalySignal(
            AnomalySignalKind.PlatformWheelsChanged,
            $"Against {previous.Version}: {string.Join("; ", parts)}. "
            + $"{previous.Version} had {Describe(before)}, {release.Version} has {Describe(now)}.");
    }

    /// <summary>size-changed: the total size of all files changed by more than <see cref="MaxSizeRatio"/> either way; skipped when a size is unknown.</summary>
    private static AnomalySignal? SizeChanged(ReleaseFacts release, ReleaseFacts previous)
    {
        if (release.Files.Count == 0 || release.Files.Any(f => f.Size is null) || previous.Files.Any(f => f.Size is null))
        {
            return null;
        }

        var total = release.Files.Sum(f => f.Size!.Value);
        var totalBefore = previous.Files.Sum(f => f.Size!.Value);
        if (total <= 0 || totalBefore <= 0)
        {
            return null;
        }

        var ratio = (double)total / totalBefore;
        if (ratio <= MaxSizeRatio && ratio >= 1 / MaxSizeRatio)
        {
            return null;
        }

        var change = ratio > 1 ? $"{ratio:0.0}x larger" : $"{1 / ratio:0.0}x smaller";
        return new AnomalySignal(
            AnomalySignalKind.SizeChanged,
            $"The {release.Files.Count} files total {total:N0} bytes, {change} than the {totalBefore:N0} bytes of "
            + $"{previous.Version}'s {previous.Files.Count} files.");
    }

    /// <summary>install-time-code: sdists but no wheel, where the previous release had wheels; installing it runs its build (setup.py).</summary>
    private static AnomalySignal? InstallTimeCode(string project, ReleaseFacts release, ReleaseFacts previous)
    {
        var kinds = Kinds(project, release);
        var wheelsBefore = Kinds(project, previous).Count(k => k == DistributionKind.Wheel);
        if (!kinds.Contains(DistributionKind.Sdist) || kinds.Contains(DistributionKind.Wheel) || wheelsBefore == 0)
        {
            return null;
        }

        var sdists = release.Files.Where(f => Parse(project, f.Filename)?.Kind == DistributionKind.Sdist).Select(f => f.Filename);
        return new AnomalySignal(
            AnomalySignalKind.InstallTimeCode,
            $"Only source distributions ({Names(sdists.ToList())}): installing runs their build code, "
            + $"where {previous.Version} had {wheelsBefore} wheel{(wheelsBefore == 1 ? "" : "s")}.");
    }

    /// <summary>
    /// dormant-revived: more than <see cref="DormantYears"/> years between the release and the latest earlier release
    /// before it, each timed by its earliest upload-time, else by when CuratedIndex first saw it.
    /// </summary>
    private static AnomalySignal? DormantRevived(ReleaseFacts release, List<ReleaseFacts> others)
    {
        var released = ReleaseTime(release);
        var before = others
            .Select(e => (Facts: e, Time: ReleaseTime(e)))
            .Where(e => e.Time <= released)
            .OrderByDescending(e => e.Time)
            .FirstOrDefault();
        if (before.Facts is null || before.Time.AddYears(DormantYears) >= released)
        {
            return null;
        }

        var silence = released - before.Time;
        return new AnomalySignal(
            AnomalySignalKind.DormantRevived,
            $"{release.Version} ({Format(released)}) is the first release in {silence.TotalDays / 365.25:0.0} years "
            + $"({silence.TotalDays:0} days): the one before it was {before.Facts.Version} ({Format(before.Time)}).");
    }

    /// <summary>roster-changed: the roster differs (ignoring case and order) from the nearest lower release's that is known.</summary>
    private static AnomalySignal? RosterChanged(ReleaseFacts release, ReleaseFacts? previous)
    {
        if (release.Roster is null || previous?.Roster is null)
        {
            return null;
        }

        var now = RosterSet(release.Roster);
        var before = RosterSet(previous.Roster);
        if (now.SetEquals(before))
        {
            return null;
        }

        var added = release.Roster.Where(r => !before.Contains(Canonical(r))).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var removed = previous.Roster.Where(r => !now.Contains(Canonical(r))).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var parts = new List<string>();
        if (added.Count > 0)
        {
            parts.Add($"added {Quoted(added)}");
        }

        if (removed.Count > 0)
        {
            parts.Add($"removed {Quoted(removed)}");
        }

        return new AnomalySignal(
            AnomalySignalKind.RosterChanged,
            $"The author/maintainer roster differs from {previous.Version}'s: {string.Join("; ", parts)}.");
    }

    /// <summary>unusual-version-form: a post-release or a local version where no earlier release had that form.</summary>
    private static AnomalySignal? UnusualVersionForm(ReleaseFacts release, Pep440Version version, List<ReleaseFacts> others)
    {
        var known = others.Select(e => Pep440Version.TryParse(e.Version, out var v) ? v : null).OfType<Pep440Version>().ToList();
        var forms = new List<string>();
        if (version.IsPostRelease && !known.Any(v => v.IsPostRelease))
        {
            forms.Add("a post-release");
        }

        if (version.Local is not null && !known.Any(v => v.Local is not null))
        {
            forms.Add($"a local version (+{version.Local}, which PyPI does not accept)");
        }

        var history = known.Count switch
        {
            0 => "the project has no earlier release",
            1 => "the project's one earlier release is not",
            _ => $"none of the project's {known.Count} earlier releases is",
        };
        return forms.Count == 0
            ? null
            : new AnomalySignal(AnomalySignalKind.UnusualVersionForm, $"{release.Version} is {string.Join(" and ", forms)}; {history}.");
    }

    /// <summary>
    /// The OS + architecture pairs of a release's platform wheels: manylinux1/2010/2014/_2_17 → manylinux_x86_64,
    /// musllinux_1_1 → musllinux_x86_64, macosx_10_9_x86_64 → macosx_x86_64 (intel, fat64, universal → x86_64;
    /// universal2 → x86_64 and arm64), everything else as written; "any" is left out.
    /// </summary>
    internal static SortedSet<string> Platforms(string project, ReleaseFacts release)
    {
        var platforms = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in release.Files)
        {
            if (Parse(project, file.Filename) is not { Kind: DistributionKind.Wheel } wheel)
            {
                continue;
            }

            foreach (var tag in wheel.PlatformTags)
            {
                foreach (var platform in NormalizePlatform(tag.ToLowerInvariant()))
                {
                    platforms.Add(platform);
                }
            }
        }

        return platforms;
    }

    private static IEnumerable<string> NormalizePlatform(string tag)
    {
        if (tag == "any")
        {
            return [];
        }

        foreach (var family in LinuxFamilies)
        {
            // manylinux1_x86_64, manylinux2014_aarch64, manylinux_2_17_x86_64, musllinux_1_2_armv7l
            if (tag.StartsWith(family, StringComparison.Ordinal))
            {
                var parts = tag[family.Length..].TrimStart('_').Split('_');
                var arch = parts.SkipWhile(p => p.Length > 0 && p.All(char.IsAsciiDigit)).ToArray();
                return arch.Length == 0 ? [tag] : [$"{family}_{string.Join('_', arch)}"];
            }
        }

        if (tag.StartsWith("macosx_", StringComparison.Ordinal))
        {
            // macosx_{major}_{minor}_{arch}
            var parts = tag.Split('_', 4);
            var arch = parts.Length == 4 ? parts[3] : tag;
            return arch switch
            {
                "universal2" => ["macosx_arm64", "macosx_x86_64"],
                "intel" or "fat64" or "universal" => ["macosx_x86_64"],
                "fat" or "fat32" => ["macosx_i386"],
                _ => [$"macosx_{arch}"],
            };
        }

        return [tag];
    }

    private static List<DistributionKind> Kinds(string project, ReleaseFacts release) =>
        release.Files.Select(f => Parse(project, f.Filename)?.Kind).OfType<DistributionKind>().ToList();

    private static DistributionFilename? Parse(string project, string filename) =>
        DistributionFilename.TryParse(filename, project, out var parsed) ? parsed : null;

    private static long Major(Pep440Version version) => version.Release.Count > 0 ? version.Release[0] : 0;

    /// <summary>When a release came out: its earliest upload-time, else when CuratedIndex first saw it.</summary>
    private static DateTimeOffset ReleaseTime(ReleaseFacts release) =>
        release.Files.Select(f => f.UploadTime).Where(t => t is not null).Min() ?? Utc(release.FirstSeenAt);

    // Stored first-seen times are UTC; SQLite hands them back with an unspecified kind.
    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    private static HashSet<string> RosterSet(IReadOnlyList<string> roster) =>
        roster.Select(Canonical).Where(r => r.Length > 0).ToHashSet(StringComparer.Ordinal);

    private static string Canonical(string entry) =>
        string.Join(' ', entry.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    private static string Format(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string Describe(TimeSpan span) =>
        span >= TimeSpan.FromDays(2) ? $"{span.TotalDays:0} days" : span < TimeSpan.FromHours(2) ? $"{span.TotalMinutes:0} minutes" : $"{span.TotalHours:0} hours";

    private static string Describe(SortedSet<string> platforms) =>
        platforms.Count == 0 ? "no platform wheels" : string.Join(", ", platforms);

    private static string Names(List<string> names) =>
        names.Count <= MaxNamedFiles
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(MaxNamedFiles))} and {names.Count - MaxNamedFiles} more";

    private static string Quoted(IEnumerable<string> entries) => string.Join(", ", entries.Select(e => $"\"{e.Trim()}\""));
}
