using System.Diagnostics.CodeAnalysis;
using System.Globalization;


namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// An interpreter and platform an environment installs on, written <c>"3.11 manylinux_2_28_x86_64"</c>: a CPython
/// version (<c>3.11</c>, or <c>3.11.4</c> for a full version) and one wheel platform tag (manylinux_X_Y_ARCH and the
/// legacy manylinux1/2010/2014 aliases, musllinux_X_Y_ARCH, linux_ARCH, macosx_X_Y_ARCH, win_amd64, win32, win_arm64).
/// It gives the PEP 508 marker environment, Requires-Python admission and wheel tag compatibility for that target.
/// </summary>
public sealed record PythonTarget(string Text, Pep440Version Python, string Platform, MarkerEnvironment Markers)
{
    /// <summary>
    /// The targets of an environment that declares none: the CPython versions upstream supports on 2026-12-05 (3.11 to
    /// 3.14), each on Linux x86_64 with glibc 2.28.
    /// </summary>
    public static IReadOnlyList<string> Default { get; } =
        ["3.11 manylinux_2_28_x86_64", "3.12 manylinux_2_28_x86_64", "3.13 manylinux_2_28_x86_64", "3.14 manylinux_2_28_x86_64"];

    // Longer input is refused without parsing.
    private const int MaxInputLength = 200;

    private const string AcceptedForms =
        "write '<python> <platform tag>' such as '3.11 manylinux_2_28_x86_64', '3.12.4 macosx_14_0_arm64', '3.13 win_amd64', "
        + "'3.11 musllinux_1_2_aarch64' or '3.11 linux_x86_64'";

    private static readonly string[] LinuxArchitectures = ["x86_64", "i686", "aarch64", "ppc64le", "ppc64", "s390x", "armv7l", "riscv64", "loongarch64"];

    private enum PlatformKind
    {
        Unknown,
        Manylinux,
        Musllinux,
        Linux,
        MacOs,
        Windows,
    }

    // Major/Minor: the glibc, musl or macOS version; Arch: the machine (for Windows the whole tag).
    private readonly record struct PlatformInfo(PlatformKind Kind, string Arch, int Major, int Minor)
    {
        public static bool TryParse(string? platform, out PlatformInfo info, out string error)
        {
            info = default;
            error = "";
            if (string.IsNullOrEmpty(platform))
            {
                error = "the platform tag is missing";
                return false;
            }

            if (platform is "win_amd64" or "win32" or "win_arm64")
            {
                info = new PlatformInfo(PlatformKind.Windows, platform, 0, 0);
                return true;
            }

            if (TrySplitLegacyManylinux(platform, out var glibcMinor, out var arch))
            {
                if (!(glibcMinor == 17 ? LinuxArchitectures.Contains(arch) : arch is "x86_64" or "i686"))
                {
                    error = $"'{Marker.Quote(platform)}' names an architecture that tag never had";
                    return false;
                }

                info = new PlatformInfo(PlatformKind.Manylinux, arch, 2, glibcMinor);
                return true;
            }

            if (TrySplitVersioned(platform, "manylinux_", out var major, out var minor, out arch))
            {
                if (!LinuxArchitectures.Contains(arch))
                {
                    error = $"'{Marker.Quote(arch)}' is not a Linux architecture ({string.Join(", ", LinuxArchitectures)})";
                    return false;
                }

                if (major != 2 || minor < MinimumGlibcMinor(arch))
                {
                    error = $"'{Marker.Quote(platform)}' names no glibc that manylinux supports (2.{MinimumGlibcMinor(arch)} or later)";
                    return false;
                }

                info = new PlatformInfo(PlatformKind.Manylinux, arch, major, minor);
                return true;
            }

            if (TrySplitVersioned(platform, "musllinux_", out major, out minor, out arch))
            {
                if (!LinuxArchitectures.Contains(arch))
                {
                    error = $"'{Marker.Quote(arch)}' is not a Linux architecture ({string.Join(", ", LinuxArchitectures)})";
                    return false;
                }

                if (major != 1)
                {
                    error = $"'{Marker.Quote(platform)}' names no musl version (musllinux_1_Y)";
                    return false;
                }

                info = new PlatformInfo(PlatformKind.Musllinux, arch, major, minor);
                return true;
            }

            if (platform.StartsWith("linux_", StringComparison.Ordinal))
            {
                arch = platform["linux_".Length..];
                if (!LinuxArchitectures.Contains(arch))
                {
                    error = $"'{Marker.Quote(arch)}' is not a Linux architecture ({string.Join(", ", LinuxArchitectures)})";
                    return false;
                }

                info = new PlatformInfo(PlatformKind.Linux, arch, 0, 0);
                return true;
            }

            if (TrySplitVersioned(platform, "macosx_", out major, out minor, out arch))
            {
                if (arch is not ("x86_64" or "arm64"))
                {
                    error = $"a macOS target names its machine, x86_64 or arm64, not '{Marker.Quote(arch)}'";
                    return false;
                }

                if (major < 10 || (major == 10 && minor > 16) || (arch == "arm64" && major < 11))
                {
                    error = $"'{Marker.Quote(platform)}' names no macOS release CPython supports there";
                    return false;
                }

                info = new PlatformInfo(PlatformKind.MacOs, arch, major, minor);
                return true;
            }

            error = $"'{Marker.Quote(platform)}' is not a platform tag a target can name";
            return false;
        }

        // Per packaging's _manylinux: x86 tags go back to glibc 2.5, every other architecture to 2.17.
        public static int MinimumGlibcMinor(string arch) => arch is "x86_64" or "i686" ? 5 : 17;

        public static bool TrySplitLegacyManylinux(string platform, out int glibcMinor, out string arch)
        {
            foreach (var (prefix, minor) in (ReadOnlySpan<(string, int)>)[("manylinux1_", 5), ("manylinux2010_", 12), ("manylinux2014_", 17)])
            {
                if (platform.StartsWith(prefix, StringComparison.Ordinal) && platform.Length > prefix.Length)
                {
                    glibcMinor = minor;
                    arch = platform[prefix.Length..];
                    return true;
                }
            }

            glibcMinor = 0;
            arch = "";
            return false;
        }

        // "<prefix>A_B_arch" with A and B small decimal numbers; arch may itself contain '_' (x86_64).
        public static bool TrySplitVersioned(string platform, string prefix, out int major, out int minor, out string arch)
        {
            major = minor = 0;
            arch = "";
            if (!platform.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }

            var parts = platform[prefix.Length..].Split('_', 3);
            if (parts.Length != 3 || parts[2].Length == 0
                || !TryReadSmallNumber(parts[0], out major) || !TryReadSmallNumber(parts[1], out minor))
            {
                return false;
            }

            arch = parts[2];
            return true;
        }
    }

    /// <summary>Parses one target; on failure <paramref name="error"/> says why in one line, naming the accepted forms. Never throws.</summary>
    /// <remarks>
    /// The platform tag is read case-insensitively; <see cref="Text"/> is the canonical <c>"&lt;python&gt; &lt;tag&gt;"</c>.
    /// The marker environment is what CPython reports there: <c>python_full_version</c> is <c>3.11.0</c> for <c>3.11</c>;
    /// <c>platform_release</c> and <c>platform_version</c> are unknown and left empty.
    /// </remarks>
    public static bool TryParse(string? text, [NotNullWhen(true)] out PythonTarget? target, [NotNullWhen(false)] out string? error)
    {
        target = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"the target is empty; {AcceptedForms}";
            return false;
        }

        if (text.Length > MaxInputLength)
        {
            error = $"the target is longer than {MaxInputLength} characters";
            return false;
        }

        var parts = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
        {
            error = $"'{Marker.Quote(text.Trim())}' is not a target; {AcceptedForms}";
            return false;
        }

        var numbers = parts[0].Split('.');
        var parsed = new int[numbers.Length];
        if (numbers.Length is not (2 or 3) || !numbers.Select((n, i) => TryReadSmallNumber(n, out parsed[i])).All(ok => ok))
        {
            error = $"'{Marker.Quote(parts[0])}' is not a Python version such as 3.12 or 3.12.4; {AcceptedForms}";
            return false;
        }

        if (parsed[0] != 3)
        {
            error = $"Python {Marker.Quote(parts[0])} is not supported: a target names a CPython 3 version; {AcceptedForms}";
            return false;
        }

        var platform = parts[1].ToLowerInvariant();
        if (!PlatformInfo.TryParse(platform, out var info, out var platformError))
        {
            error = $"{platformError}; {AcceptedForms}";
            return false;
        }

        // Canonical spelling ("03.011" would otherwise survive into Text and the marker values).
        var pythonVersion = string.Create(CultureInfo.InvariantCulture, $"{parsed[0]}.{parsed[1]}");
        var fullVersion = parsed.Length == 3
            ? string.Create(CultureInfo.InvariantCulture, $"{pythonVersion}.{parsed[2]}")
            : $"{pythonVersion}.0";
        var python = parsed.Length == 3 ? fullVersion : pythonVersion;
        var markers = info.Kind switch
        {
            PlatformKind.MacOs => new MarkerEnvironment(pythonVersion, fullVersion, "posix", "darwin", "Darwin", info.Arch),
            PlatformKind.Windows => new MarkerEnvironment(
                pythonVersion,
                fullVersion,
                "nt",
                "win32",
                "Windows",
                info.Arch switch { "win_amd64" => "AMD64", "win_arm64" => "ARM64", _ => "x86" }),
            _ => new MarkerEnvironment(pythonVersion, fullVersion, "posix", "linux", "Linux", info.Arch),
        };
        markers = markers with { ImplementationVersion = fullVersion };

        target = new PythonTarget($"{python} {platform}", Pep440Version.Parse(python), platform, markers);
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="requiresPython"/> (a file's Requires-Python; null or empty: any) admits this interpreter.</summary>
    /// <remarks>
    /// The specifiers are checked against the full version (3.11 means 3.11.0). A Requires-Python that is not a valid
    /// specifier set admits every interpreter, as pip ignores it (it logs and installs).
    /// </remarks>
    public bool AdmitsPython(string? requiresPython)
    {
        if (string.IsNullOrWhiteSpace(requiresPython) || !VersionSpecifierSet.TryParse(requiresPython, out var specifiers))
        {
            return true;
        }

        return specifiers.Contains(Python, includePrereleases: true);
    }

    /// <summary>
    /// True when pip on this target could install <paramref name="file"/>: an sdist always; a wheel when one of its
    /// python/abi/platform tag triples is supported here (py3/py3X/cp3X, abi3 from its version up, none; any or a
    /// compatible platform). Eggs and other kinds never.
    /// </summary>
    /// <remarks>
    /// The supported triples are those packaging's <c>sys_tags()</c> yields for CPython 3.M on this platform:
    /// <c>cp3M-cp3M-P</c>, <c>cp3M-abi3-P</c>, <c>cp3M-none-P</c>, <c>cp3Y-abi3-P</c> (2 &lt;= Y &lt; M),
    /// <c>py3M|py3|py3Y-none-P</c> (Y &lt; M), <c>cp3M-none-any</c> and <c>py3M|py3|py3Y-none-any</c>, where P is a
    /// platform tag this target accepts: manylinux up to its glibc on the same architecture (legacy aliases
    /// manylinux1/2010/2014 = 2.5/2.12/2.17) and <c>linux_ARCH</c> on a glibc target; musllinux_1_Y up to its musl and
    /// <c>linux_ARCH</c> on a musl target; only <c>linux_ARCH</c> on a plain linux target (its libc is unknown); macOS
    /// releases up to its own with a binary format its machine runs (universal2 on both, intel/fat/universal on x86_64);
    /// the exact tag on Windows. Tags compare case-insensitively.
    /// </remarks>
    public bool IsCompatible(DistributionFilename file)
    {
        ArgumentNullException.ThrowIfNull(file);
        switch (file.Kind)
        {
            case DistributionKind.Sdist:
                return true;
            case DistributionKind.Wheel:
                break;
            default:
                return false;
        }

        // Parsed per call rather than cached in a field, so record equality and 'with' copies stay plain.
        var target = PlatformInfo.TryParse(Platform, out var info, out _) ? info : default;
        foreach (var platformTag in file.PlatformTags)
        {
            var platform = platformTag.ToLowerInvariant();
            var isAny = platform == "any";
            if (!isAny && !SupportsPlatform(platform, target))
            {
                continue;
            }

            foreach (var pythonTag in file.PythonTags)
            {
                foreach (var abiTag in file.AbiTags)
                {
                    if (SupportsInterpreter(pythonTag.ToLowerInvariant(), abiTag.ToLowerInvariant(), isAny))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private int PythonMinor => Python.Release.Count > 1 ? (int)Math.Min(Python.Release[1], int.MaxValue) : 0;

    private bool SupportsInterpreter(string python, string abi, bool anyPlatform)
    {
        var minor = PythonMinor;
        if (TryReadMinor(python, "cp3", out var cpMinor))
        {
            if (cpMinor == minor)
            {
                // cp3M-none-any, and on a platform: cp3M-cp3M, cp3M-abi3 and cp3M-none.
                return abi == "none" || (!anyPlatform && (abi == CpythonAbi(minor) || (abi == "abi3" && minor >= 2)));
            }

            // The stable ABI of an older 3.Y (from 3.2, when abi3 began) loads here; only as a platform wheel.
            return cpMinor < minor && cpMinor >= 2 && abi == "abi3" && !anyPlatform;
        }

        if (abi != "none")
        {
            return false;
        }

        return python == "py3" || (TryReadMinor(python, "py3", out var pyMinor) && pyMinor <= minor);
    }

    // CPython before 3.8 was built with pymalloc and marked its ABI "m".
    private static string CpythonAbi(int minor) =>
        minor >= 8 ? $"cp3{minor.ToString(CultureInfo.InvariantCulture)}" : $"cp3{minor.ToString(CultureInfo.InvariantCulture)}m";

    private static bool SupportsPlatform(string platform, PlatformInfo target)
    {
        switch (target.Kind)
        {
            case PlatformKind.Windows:
                return platform == target.Arch;
            case PlatformKind.Linux:
                return platform == "linux_" + target.Arch;
            case PlatformKind.Manylinux:
                if (platform == "linux_" + target.Arch)
                {
                    return true;
                }

                int glibcMinor;
                string arch;
                if (PlatformInfo.TrySplitLegacyManylinux(platform, out glibcMinor, out arch)
                    || (PlatformInfo.TrySplitVersioned(platform, "manylinux_", out var glibcMajor, out glibcMinor, out arch) && glibcMajor == 2))
                {
                    return arch == target.Arch && glibcMinor <= target.Minor && glibcMinor >= PlatformInfo.MinimumGlibcMinor(arch);
                }

                return false;
            case PlatformKind.Musllinux:
                if (platform == "linux_" + target.Arch)
                {
                    return true;
                }

                return PlatformInfo.TrySplitVersioned(platform, "musllinux_", out var muslMajor, out var muslMinor, out arch)
                    && muslMajor == 1 && muslMinor <= target.Minor && arch == target.Arch;
            case PlatformKind.MacOs:
                return PlatformInfo.TrySplitVersioned(platform, "macosx_", out var macMajor, out var macMinor, out var format)
                    && SupportsMacOs(macMajor, macMinor, format, target);
            default:
                return false;
        }
    }

    // packaging's mac_platforms: from macOS 11 only X.0 releases count (down to 11.0), then 10.16 to 10.4, where an
    // arm64 machine runs only universal2 binaries; before 11, every 10.Y up to its own.
    private static bool SupportsMacOs(int major, int minor, string format, PlatformInfo target)
    {
        if (target.Major >= 11)
        {
            if (major >= 11)
            {
                return minor == 0 && major <= target.Major && MacFormats(major, minor, target.Arch).Contains(format);
            }

            return major == 10 && minor is >= 4 and <= 16
                && (target.Arch == "x86_64" ? MacFormats(major, minor, target.Arch).Contains(format) : format == "universal2");
        }

        return major == 10 && minor <= target.Minor && MacFormats(major, minor, target.Arch).Contains(format);
    }

    // packaging's _mac_binary_formats for the two machines a target can name ("fat32" is the older spelling of "fat3").
    private static string[] MacFormats(int major, int minor, string arch) => arch switch
    {
        "arm64" => ["arm64", "universal2"],
        "x86_64" when major > 10 || minor >= 4 => ["x86_64", "intel", "fat64", "fat3", "fat32", "universal2", "universal"],
        _ => [],
    };

    // "cp311" with prefix "cp3" gives 11; only one or two digits, no sign or leading '+'.
    private static bool TryReadMinor(string tag, string prefix, out int minor)
    {
        minor = 0;
        return tag.StartsWith(prefix, StringComparison.Ordinal)
            && tag.Length - prefix.Length is 1 or 2
            && TryReadSmallNumber(tag[prefix.Length..], out minor);
    }

    // ASCII digits only, at most four of them, so the value always fits.
    private static bool TryReadSmallNumber(string text, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 4)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
