using System.Diagnostics.CodeAnalysis;


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

    /// <summary>Parses one target; on failure <paramref name="error"/> says why in one line, naming the accepted forms. Never throws.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out PythonTarget? target, [NotNullWhen(false)] out string? error) =>
        throw new NotImplementedException();

    /// <summary>True when <paramref name="requiresPython"/> (a file's Requires-Python; null or empty: any) admits this interpreter.</summary>
    public bool AdmitsPython(string? requiresPython) => throw new NotImplementedException();

    /// <summary>
    /// True when pip on this target could install <paramref name="file"/>: an sdist always; a wheel when one of its
    /// python/abi/platform tag triples is supported here (py3/py3X/cp3X, abi3 from its version up, none; any or a
    /// compatible platform). Eggs and other kinds never.
    /// </summary>
    public bool IsCompatible(DistributionFilename file) => throw new NotImplementedException();
}
