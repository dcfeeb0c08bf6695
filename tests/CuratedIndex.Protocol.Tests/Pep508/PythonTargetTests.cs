using CuratedIndex.Protocol.Pep508;

namespace CuratedIndex.Protocol.Tests.Pep508;

public class PythonTargetTests
{
    internal static PythonTarget Target(string text)
    {
        Assert.True(PythonTarget.TryParse(text, out var target, out var error), error);
        return target;
    }

    private static DistributionFilename File(string filename)
    {
        Assert.True(DistributionFilename.TryParse(filename, null, out var file), filename);
        return file;
    }

    [Theory]
    // text, python_version, python_full_version, os_name, sys_platform, platform_system, platform_machine
    [InlineData("3.11 manylinux_2_28_x86_64", "3.11", "3.11.0", "posix", "linux", "Linux", "x86_64")]
    [InlineData("3.12.4 macosx_14_0_arm64", "3.12", "3.12.4", "posix", "darwin", "Darwin", "arm64")]
    [InlineData("3.13 win_amd64", "3.13", "3.13.0", "nt", "win32", "Windows", "AMD64")]
    [InlineData("3.13 win32", "3.13", "3.13.0", "nt", "win32", "Windows", "x86")]
    [InlineData("3.13 win_arm64", "3.13", "3.13.0", "nt", "win32", "Windows", "ARM64")]
    [InlineData("3.11 linux_x86_64", "3.11", "3.11.0", "posix", "linux", "Linux", "x86_64")]
    [InlineData("3.11 musllinux_1_2_aarch64", "3.11", "3.11.0", "posix", "linux", "Linux", "aarch64")]
    [InlineData("3.9 manylinux2014_aarch64", "3.9", "3.9.0", "posix", "linux", "Linux", "aarch64")]
    [InlineData("3.8 manylinux1_i686", "3.8", "3.8.0", "posix", "linux", "Linux", "i686")]
    [InlineData("3.10.12 macosx_10_15_x86_64", "3.10", "3.10.12", "posix", "darwin", "Darwin", "x86_64")]
    public void Targets_give_the_marker_environment_cpython_reports_there(
        string text, string pythonVersion, string fullVersion, string osName, string sysPlatform, string system, string machine)
    {
        var m = Target(text).Markers;
        Assert.Equal(pythonVersion, m.PythonVersion);
        Assert.Equal(fullVersion, m.PythonFullVersion);
        Assert.Equal(osName, m.OsName);
        Assert.Equal(sysPlatform, m.SysPlatform);
        Assert.Equal(system, m.PlatformSystem);
        Assert.Equal(machine, m.PlatformMachine);
        Assert.Equal("CPython", m.PlatformPythonImplementation);
        Assert.Equal("cpython", m.ImplementationName);
        Assert.Equal(fullVersion, m.Get("implementation_version"));
        Assert.Equal(sysPlatform, m.Get("sys.platform"));
        Assert.Null(m.Get("extra"));
        Assert.Null(m.Get("nonsense"));
    }

    [Fact]
    public void Text_is_canonical()
    {
        var t = Target("  3.12\t\tMacOSX_14_0_ARM64 ");
        Assert.Equal("3.12 macosx_14_0_arm64", t.Text);
        Assert.Equal("macosx_14_0_arm64", t.Platform);
        Assert.Equal(Pep440Version.Parse("3.12"), t.Python);
        Assert.Equal("3.12.4 win_amd64", Target("03.012.04 win_amd64").Text);
        Assert.Equal(Target("3.11 manylinux_2_28_x86_64"), Target("3.11  manylinux_2_28_x86_64"));
    }

    [Fact]
    public void The_default_targets_all_parse()
    {
        Assert.Equal(4, PythonTarget.Default.Count);
        Assert.All(PythonTarget.Default, text => Assert.Equal(text, Target(text).Text));
    }

    [Theory]
    [InlineData(null, "the target is empty")]
    [InlineData("", "the target is empty")]
    [InlineData("3.11", "is not a target; write '<python> <platform tag>'")]
    [InlineData("3.11 manylinux_2_28_x86_64 extra", "is not a target")]
    [InlineData("2.7 manylinux1_x86_64", "Python 2.7 is not supported")]
    [InlineData("4.0 win_amd64", "Python 4.0 is not supported")]
    [InlineData("3 win_amd64", "'3' is not a Python version such as 3.12")]
    [InlineData("3.11rc1 win_amd64", "'3.11rc1' is not a Python version")]
    [InlineData("python3.11 win_amd64", "'python3.11' is not a Python version")]
    [InlineData("3.11.4.1 win_amd64", "is not a Python version")]
    [InlineData("3.-1 win_amd64", "is not a Python version")]
    [InlineData("3.11 any", "'any' is not a platform tag a target can name")]
    [InlineData("3.11 win_amd65", "'win_amd65' is not a platform tag")]
    [InlineData("3.11 manylinux_2_28_sparc", "'sparc' is not a Linux architecture")]
    [InlineData("3.11 manylinux_2_4_x86_64", "names no glibc that manylinux supports (2.5 or later)")]
    [InlineData("3.11 manylinux_2_12_aarch64", "(2.17 or later)")]
    [InlineData("3.11 manylinux1_aarch64", "names an architecture that tag never had")]
    [InlineData("3.11 musllinux_2_1_x86_64", "names no musl version")]
    [InlineData("3.11 macosx_14_0_universal2", "a macOS target names its machine, x86_64 or arm64")]
    [InlineData("3.11 macosx_10_15_arm64", "names no macOS release")]
    [InlineData("3.11 macosx_x_y_arm64", "is not a platform tag")]
    public void Invalid_targets_are_refused_naming_the_accepted_forms(string? text, string expected)
    {
        Assert.False(PythonTarget.TryParse(text, out var target, out var error));
        Assert.Null(target);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Contains("3.11 manylinux_2_28_x86_64", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Overlong_target_is_refused()
    {
        Assert.False(PythonTarget.TryParse("3.11 " + new string('a', 300), out _, out var error));
        Assert.Contains("longer than 200", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3.11 manylinux_2_28_x86_64", null, true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", ">=3.5", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", ">=3.12", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", ">=3.9, <4.0", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "<3.11", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "!=3.11.*", false)]
    // "3.11" stands for 3.11.0.
    [InlineData("3.11 manylinux_2_28_x86_64", ">=3.11.1", false)]
    [InlineData("3.11.4 manylinux_2_28_x86_64", ">=3.11.1", true)]
    [InlineData("3.11.4 manylinux_2_28_x86_64", "~=3.11.5", false)]
    // Invalid Requires-Python is ignored, as pip does.
    [InlineData("3.11 manylinux_2_28_x86_64", ">=3.6.*", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "not a specifier", true)]
    public void Requires_python_is_checked_against_the_full_version(string target, string? requiresPython, bool expected) =>
        Assert.Equal(expected, Target(target).AdmitsPython(requiresPython));

    [Theory]
    // Pure wheels.
    [InlineData("3.11 manylinux_2_28_x86_64", "six-1.17.0-py2.py3-none-any.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "black-19.10b0-py36-none-any.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-py311-none-any.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-py312-none-any.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "futures-3.2.0-py2-none-any.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp311-none-any.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp310-none-any.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-pp310-pypy310_pp73-any.whl", false)]
    // CPython ABI: exact version, abi3 from its version up, none.
    [InlineData("3.11 manylinux_2_28_x86_64", "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "numpy-1.23.1-cp310-cp310-manylinux_2_17_x86_64.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "cryptography-42.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp312-abi3-manylinux_2_28_x86_64.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp311-abi3-any.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp311-none-manylinux_2_17_x86_64.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp310-none-manylinux_2_17_x86_64.whl", false)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-py3-none-manylinux_2_17_x86_64.whl", true)]
    [InlineData("3.11 manylinux_2_28_x86_64", "x-1.0-cp311-cp311d-manylinux_2_17_x86_64.whl", false)]
    [InlineData("3.7 manylinux_2_28_x86_64", "x-1.0-cp37-cp37m-manylinux_2_17_x86_64.whl", true)]
    [InlineData("3.7 manylinux_2_28_x86_64", "x-1.0-cp37-cp37-manylinux_2_17_x86_64.whl", false)]
    // glibc: up to the target's, same architecture, legacy aliases, linux_ARCH.
    [InlineData("3.10 manylinux_2_28_x86_64", "numpy-1.23.1-cp310-cp310-manylinux_2_28_x86_64.whl", true)]
    [InlineData("3.10 manylinux_2_24_x86_64", "numpy-1.23.1-cp310-cp310-manylinux_2_28_x86_64.whl", false)]
    [InlineData("3.10 manylinux_2_17_x86_64", "x-1.0-cp310-cp310-manylinux2014_x86_64.whl", true)]
    [InlineData("3.10 manylinux_2_12_x86_64", "x-1.0-cp310-cp310-manylinux2014_x86_64.whl", false)]
    [InlineData("3.10 manylinux2010_x86_64", "x-1.0-cp310-cp310-manylinux1_x86_64.whl", true)]
    [InlineData("3.10 manylinux2010_x86_64", "x-1.0-cp310-cp310-manylinux_2_12_x86_64.whl", true)]
    [InlineData("3.10 manylinux_2_28_aarch64", "numpy-1.23.1-cp310-cp310-manylinux_2_17_x86_64.whl", false)]
    [InlineData("3.10 manylinux_2_28_aarch64", "x-1.0-cp310-cp310-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", true)]
    [InlineData("3.10 manylinux_2_28_x86_64", "x-1.0-cp310-cp310-linux_x86_64.whl", true)]
    [InlineData("3.10 manylinux_2_28_x86_64", "x-1.0-cp310-cp310-musllinux_1_1_x86_64.whl", false)]
    [InlineData("3.10 manylinux_2_28_x86_64", "numpy-1.23.1-cp310-cp310-win_amd64.whl", false)]
    [InlineData("3.10 manylinux_2_28_x86_64", "numpy-1.23.1-cp310-cp310-macosx_10_9_x86_64.whl", false)]
    // musl.
    [InlineData("3.11 musllinux_1_2_aarch64", "x-1.0-cp311-cp311-musllinux_1_1_aarch64.whl", true)]
    [InlineData("3.11 musllinux_1_1_aarch64", "x-1.0-cp311-cp311-musllinux_1_2_aarch64.whl", false)]
    [InlineData("3.11 musllinux_1_2_aarch64", "x-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", false)]
    [InlineData("3.11 musllinux_1_2_aarch64", "x-1.0-cp311-cp311-linux_aarch64.whl", true)]
    // A plain linux target does not know its libc.
    [InlineData("3.11 linux_x86_64", "x-1.0-cp311-cp311-linux_x86_64.whl", true)]
    [InlineData("3.11 linux_x86_64", "x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", false)]
    // macOS: X.0 from 11 on, 10.x binaries on x86_64, only universal2 of 10.x on arm64.
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_11_0_arm64.whl", true)]
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_14_0_arm64.whl", true)]
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_15_0_arm64.whl", false)]
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_11_1_arm64.whl", false)]
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_10_9_universal2.whl", true)]
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_10_9_x86_64.whl", false)]
    [InlineData("3.12 macosx_14_0_arm64", "x-1.0-cp312-cp312-macosx_12_0_x86_64.whl", false)]
    [InlineData("3.12 macosx_14_0_x86_64", "x-1.0-cp312-cp312-macosx_10_9_x86_64.whl", true)]
    [InlineData("3.12 macosx_14_0_x86_64", "x-1.0-cp312-cp312-macosx_10_6_intel.whl", true)]
    [InlineData("3.12 macosx_14_0_x86_64", "x-1.0-cp312-cp312-macosx_10_9_universal.whl", true)]
    [InlineData("3.12 macosx_14_0_x86_64", "x-1.0-cp312-cp312-macosx_11_0_arm64.whl", false)]
    [InlineData("3.10 macosx_10_15_x86_64", "numpy-1.23.1-cp310-cp310-macosx_10_9_x86_64.whl", true)]
    [InlineData("3.10 macosx_10_15_x86_64", "x-1.0-cp310-cp310-macosx_10_16_x86_64.whl", false)]
    [InlineData("3.10 macosx_10_15_x86_64", "x-1.0-cp310-cp310-macosx_11_0_x86_64.whl", false)]
    // Windows: the exact tag.
    [InlineData("3.10 win_amd64", "numpy-1.23.1-cp310-cp310-win_amd64.whl", true)]
    [InlineData("3.10 win32", "numpy-1.23.1-cp310-cp310-win_amd64.whl", false)]
    [InlineData("3.10 win_arm64", "numpy-1.23.1-cp310-cp310-win_amd64.whl", false)]
    [InlineData("3.10 win_amd64", "x-1.0-cp310-cp310-WIN_AMD64.whl", true)]
    // Other kinds.
    [InlineData("3.11 win_amd64", "black-21.11b0.tar.gz", true)]
    [InlineData("3.11 win_amd64", "x-1.0.zip", true)]
    [InlineData("3.11 win_amd64", "x-1.0-py3.11.egg", false)]
    [InlineData("3.11 win_amd64", "numpy-1.0.1.win32-py2.4.exe", false)]
    public void Wheels_are_compatible_when_one_tag_triple_is_supported(string target, string filename, bool expected) =>
        Assert.Equal(expected, Target(target).IsCompatible(File(filename)));

    [Fact]
    public void Real_fixture_wheels_on_the_default_targets()
    {
        // shared/fixtures: proxpi's numpy 1.23.1 wheels are cp310 only, so no default target (3.11 to 3.14) takes them.
        var targets = PythonTarget.Default.Select(Target).ToList();
        foreach (var name in new[] { "numpy-1.23.1-cp310-cp310-manylinux_2_28_x86_64.whl", "numpy-1.23.1-cp310-cp310-win_amd64.whl" })
        {
            Assert.All(targets, t => Assert.False(t.IsCompatible(File(name))));
        }

        Assert.All(targets, t => Assert.True(t.IsCompatible(File("zipp-3.7.0-py3-none-any.whl"))));
        Assert.True(Target("3.10 manylinux_2_28_x86_64").IsCompatible(File("numpy-1.23.1-cp310-cp310-manylinux_2_28_x86_64.whl")));
    }
}
