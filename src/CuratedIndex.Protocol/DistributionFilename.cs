using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Protocol;

/// <summary>What kind of distribution a filename names.</summary>
public enum DistributionKind
{
    Wheel,
    Sdist,
    Egg,

    /// <summary>Legacy binary installers (.exe, .msi, .rpm, .dmg).</summary>
    Other,
}

/// <summary>
/// A distribution filename split into its parts: wheels per the binary distribution format, sdists per the
/// source distribution format (plus legacy archive types), eggs, and legacy installers on a best-effort basis.
/// </summary>
public sealed record DistributionFilename
{
    /// <summary>The longest filename <see cref="IsSafe"/> accepts.</summary>
    public const int MaxSafeLength = 255;

    // Longest first: ".tar" must not shadow ".tar.gz".
    private static readonly string[] SdistExtensions = [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar"];
    private static readonly string[] OtherExtensions = [".exe", ".msi", ".rpm", ".dmg"];

    private DistributionFilename(string filename, string project, string version, DistributionKind kind)
    {
        Filename = filename;
        Project = project;
        Version = version;
        Kind = kind;
    }

    /// <summary>The filename as given.</summary>
    public string Filename { get; }

    /// <summary>The PEP 503 normalized project name.</summary>
    public string Project { get; }

    /// <summary>The version exactly as written in the filename (not necessarily PEP 440).</summary>
    public string Version { get; }

    public DistributionKind Kind { get; }

    /// <summary>The wheel build tag, or null.</summary>
    public string? BuildTag { get; private init; }

    /// <summary>Wheel python tags (compressed tag sets split on <c>.</c>); empty for other kinds.</summary>
    public IReadOnlyList<string> PythonTags { get; private init; } = [];

    /// <summary>Wheel ABI tags; empty for other kinds.</summary>
    public IReadOnlyList<string> AbiTags { get; private init; } = [];

    /// <summary>Wheel platform tags; empty for other kinds.</summary>
    public IReadOnlyList<string> PlatformTags { get; private init; } = [];

    /// <summary>
    /// Splits <paramref name="filename"/>. When <paramref name="expectedProject"/> is given the name part must
    /// normalize to it, and it decides where an ambiguous name ends (<c>python-dateutil-2.8.2.tar.gz</c>).
    /// Without it an sdist name ends at the first <c>-digit</c> whose remainder is a PEP 440 version, else at
    /// the last <c>-digit</c>. Never throws.
    /// </summary>
    public static bool TryParse(string filename, string? expectedProject, [NotNullWhen(true)] out DistributionFilename? result)
    {
        result = null;
        if (string.IsNullOrEmpty(filename) || filename.Length > Pep440Version.MaxInputLength * 4)
        {
            return false;
        }

        var expected = string.IsNullOrWhiteSpace(expectedProject) ? null : ProjectName.Normalize(expectedProject.Trim());
        if (EndsWith(filename, ".whl"))
        {
            return TryParseWheel(filename, filename[..^4], expected, out result);
        }

        if (EndsWith(filename, ".egg"))
        {
            return TryParseEgg(filename, filename[..^4], expected, out result);
        }

        foreach (var extension in SdistExtensions)
        {
            if (EndsWith(filename, extension))
            {
                return TryParseSdist(filename, filename[..^extension.Length], expected, out result);
            }
        }

        foreach (var extension in OtherExtensions)
        {
            if (EndsWith(filename, extension))
            {
                result = ParseOther(filename, filename[..^extension.Length], expected);
                return result is not null;
            }
        }

        return false;
    }

    /// <summary>
    /// The guard for every upstream filename before it is used in a path or URL: 1..255 printable ASCII
    /// characters from letters, digits and <c>._-+!~</c>, not starting with <c>.</c> or <c>-</c>
    /// (which also excludes <c>.</c> and <c>..</c>). Rejects separators, <c>%</c>, <c>:</c> and control characters.
    /// </summary>
    public static bool IsSafe([NotNullWhen(true)] string? filename)
    {
        if (string.IsNullOrEmpty(filename) || filename.Length > MaxSafeLength || filename[0] is '.' or '-')
        {
            return false;
        }

        foreach (var c in filename)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or '+' or '!' or '~'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool EndsWith(string filename, string extension) =>
        filename.Length > extension.Length && filename.EndsWith(extension, StringComparison.OrdinalIgnoreCase);

    // Splits "{name}-{rest}": at the dash where the name normalizes to expected, or at the first dash.
    private static bool TrySplitName(string stem, string? expected, out string name, out string rest)
    {
        for (var i = stem.IndexOf('-', StringComparison.Ordinal); i > 0; i = stem.IndexOf('-', i + 1))
        {
            if (expected is null || (StartsLikeVersion(stem.AsSpan(i + 1)) && ProjectName.Normalize(stem[..i]) == expected))
            {
                name = stem[..i];
                rest = stem[(i + 1)..];
                return rest.Length > 0;
            }
        }

        name = rest = "";
        return false;
    }

    // With a known project the version must still look like one, so "python-dateutil-2.8.2" is not "python".
    private static bool StartsLikeVersion(ReadOnlySpan<char> rest) =>
        !rest.IsEmpty && (char.IsAsciiDigit(rest[0]) || (rest.Length > 1 && rest[0] is 'v' or 'V' && char.IsAsciiDigit(rest[1])));

    private static bool TryParseWheel(string filename, string stem, string? expected, out DistributionFilename? result)
    {
        result = null;
        if (!TrySplitName(stem, expected, out var name, out var rest))
        {
            return false;
        }

        var parts = rest.Split('-');
        if (parts.Length is not (4 or 5) || Array.Exists(parts, p => p.Length == 0))
        {
            return false;
        }

        string? buildTag = null;
        if (parts.Length == 5)
        {
            // The build tag must start with a digit (binary distribution format).
            buildTag = parts[1];
            if (!char.IsAsciiDigit(buildTag[0]))
            {
                return false;
            }
        }

        var tagStart = parts.Length - 3;
        result = new DistributionFilename(filename, ProjectName.Normalize(name), parts[0], DistributionKind.Wheel)
        {
            BuildTag = buildTag,
            PythonTags = SplitTags(parts[tagStart]),
            AbiTags = SplitTags(parts[tagStart + 1]),
            PlatformTags = SplitTags(parts[tagStart + 2]),
        };
        return result.PythonTags.Count > 0 && result.AbiTags.Count > 0 && result.PlatformTags.Count > 0;
    }

    private static string[] SplitTags(string compressed) =>
        compressed.Split('.', StringSplitOptions.RemoveEmptyEntries);

    private static bool TryParseSdist(string filename, string stem, string? expected, out DistributionFilename? result)
    {
        result = null;
        string name;
        string version;
        if (expected is not null)
        {
            if (!TrySplitName(stem, expected, out name, out version))
            {
                return false;
            }
        }
        else if (!TrySplitAtVersion(stem, out name, out version))
        {
            return false;
        }

        result = new DistributionFilename(filename, ProjectName.Normalize(name), version, DistributionKind.Sdist);
        return true;
    }

    // Without a project name the version starts after a "-digit". Prefer the first such dash that leaves a
    // PEP 440 version, since versions contain dashes ("1.0-1") far more often than names contain "-digit".
    private static bool TrySplitAtVersion(string stem, out string name, out string version)
    {
        var last = -1;
        for (var i = stem.IndexOf('-', StringComparison.Ordinal); i >= 0; i = stem.IndexOf('-', i + 1))
        {
            if (i == 0 || i + 1 >= stem.Length || !char.IsAsciiDigit(stem[i + 1]))
            {
                continue;
            }

            if (Pep440Version.TryParse(stem[(i + 1)..], out _))
            {
                last = i;
                break;
            }

            last = i;
        }

        if (last < 0)
        {
            name = version = "";
            return false;
        }

        name = stem[..last];
        version = stem[(last + 1)..];
        return true;
    }

    // Eggs: {name}-{version}(-py{x.y}(-{platform})?)?; setuptools writes '-' inside name and version as '_'.
    private static bool TryParseEgg(string filename, string stem, string? expected, out DistributionFilename? result)
    {
        result = null;
        if (!TrySplitName(stem, expected, out var name, out var rest))
        {
            return false;
        }

        var dash = rest.IndexOf('-', StringComparison.Ordinal);
        var version = dash < 0 ? rest : rest[..dash];
        if (version.Length == 0)
        {
            return false;
        }

        if (dash >= 0 && !rest.AsSpan(dash + 1).StartsWith("py", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        result = new DistributionFilename(filename, ProjectName.Normalize(name), version, DistributionKind.Egg);
        return true;
    }

    // Legacy installers mix version and platform ("numpy-1.0.1.dev3460.win32-py2.4.exe"): take the longest
    // dot-bounded prefix of the part before the next dash that is a PEP 440 version.
    private static DistributionFilename? ParseOther(string filename, string stem, string? expected)
    {
        if (!(expected is not null ? TrySplitName(stem, expected, out var name, out var rest) : TrySplitAtVersion(stem, out name, out rest)))
        {
            return expected is null
                ? new DistributionFilename(filename, ProjectName.Normalize(stem), stem, DistributionKind.Other)
                : null;
        }

        var dash = rest.IndexOf('-', StringComparison.Ordinal);
        var candidate = dash < 0 ? rest : rest[..dash];
        var version = candidate;
        for (var end = candidate.Length; end > 0; end = candidate.LastIndexOf('.', end - 1))
        {
            if (Pep440Version.TryParse(candidate[..end], out _))
            {
                version = candidate[..end];
                break;
            }
        }

        return new DistributionFilename(filename, ProjectName.Normalize(name), version, DistributionKind.Other);
    }
}
