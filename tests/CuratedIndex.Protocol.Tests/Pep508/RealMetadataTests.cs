using CuratedIndex.Protocol.Pep508;

namespace CuratedIndex.Protocol.Tests.Pep508;

/// <summary>
/// What each real Requires-Dist gives on named targets. The expected lists were cross-checked against pip 23.2's
/// vendored packaging 21.3 evaluating the same files with the same marker environments (pip's rule: no extras means
/// extra == "", several extras means any of them), except where PEP 685 normalization differs (noted).
/// </summary>
public class RealMetadataTests
{
    private const string Linux311 = "3.11 manylinux_2_28_x86_64";
    private const string Mac312 = "3.12 macosx_14_0_arm64";
    private const string Windows311 = "3.11 win_amd64";

    // The projects (normalized, in file order, repeats kept) whose requirement applies on the target with the extras.
    private static string Needs(string file, string target, params string[] extras)
    {
        var metadata = CoreMetadataTests.Load(file);
        var environment = PythonTargetTests.Target(target).Markers;
        var asked = new HashSet<string>(extras.Select(Requirement.NormalizeExtra));
        var needed = new List<string>();
        foreach (var line in metadata.RequiresDist)
        {
            Assert.True(Requirement.TryParse(line, out var requirement, out var error), error);
            if (requirement.AppliesTo(environment, asked))
            {
                needed.Add(requirement.Project);
            }
        }

        return string.Join(' ', needed);
    }

    [Theory]
    [InlineData(Linux311, "setuptools jedi decorator pickleshare traitlets prompt-toolkit pygments backcall pexpect")]
    [InlineData(Mac312, "setuptools jedi decorator pickleshare traitlets prompt-toolkit pygments backcall pexpect appnope")]
    [InlineData(Windows311, "setuptools jedi decorator pickleshare traitlets prompt-toolkit pygments backcall colorama")]
    // win-unicode-console: sys_platform == "win32" and python_version < "3.6".
    [InlineData("3.5 win_amd64", "setuptools jedi decorator pickleshare traitlets prompt-toolkit pygments backcall colorama win-unicode-console")]
    // typing: python_version == "3.4".
    [InlineData("3.4 manylinux1_x86_64", "setuptools jedi decorator pickleshare traitlets prompt-toolkit pygments backcall typing pexpect")]
    public void Ipython_7_5_0_per_platform(string target, string expected) =>
        Assert.Equal(expected, Needs("ipython-7.5.0-py3-none-any.whl.metadata", target));

    [Fact]
    public void Ipython_7_5_0_with_the_test_extra()
    {
        const string expected = "setuptools jedi decorator pickleshare traitlets prompt-toolkit pygments backcall pexpect "
            + "nose requests testpath pygments nbformat ipykernel numpy";
        Assert.Equal(expected, Needs("ipython-7.5.0-py3-none-any.whl.metadata", Linux311, "test"));
        Assert.Equal(expected, Needs("ipython-7.5.0-py3-none-any.whl.metadata", Linux311, "TEST"));
    }

    [Fact]
    public void Requests_2_18_4_extras_and_a_windows_python2_only_dependency()
    {
        const string file = "requests-2.18.4-py2.py3-none-any.whl.metadata";
        Assert.Equal("certifi chardet idna urllib3", Needs(file, Windows311));
        // win-inet-pton needs win32 and Python 2.6/2.7 and the socks extra: never on a Python 3 target.
        Assert.Equal("certifi chardet idna urllib3 pysocks", Needs(file, Windows311, "socks"));
        Assert.Equal("certifi chardet idna urllib3 cryptography idna pyopenssl pysocks", Needs(file, Linux311, "security", "socks"));
    }

    [Theory]
    [InlineData(Linux311, "click platformdirs tomli regex pathspec typing-extensions mypy-extensions typing-extensions")]
    [InlineData("3.6 manylinux1_x86_64", "click platformdirs tomli regex pathspec typing-extensions mypy-extensions dataclasses typed-ast")]
    [InlineData("3.7 manylinux1_x86_64", "click platformdirs tomli regex pathspec typing-extensions mypy-extensions typed-ast")]
    public void Black_21_11b0_python_version_and_implementation_markers(string target, string expected) =>
        Assert.Equal(expected, Needs("black-21.11b0-py3-none-any.whl.metadata", target));

    [Fact]
    public void Black_21_11b0_with_two_extras() =>
        Assert.Equal(
            "click platformdirs tomli regex pathspec typing-extensions mypy-extensions typing-extensions aiohttp ipython tokenize-rt",
            Needs("black-21.11b0-py3-none-any.whl.metadata", Linux311, "d", "jupyter"));

    [Fact]
    public void Pytest_3_5_0_needs_colorama_only_on_windows()
    {
        Assert.Equal("py six setuptools attrs more-itertools pluggy", Needs("pytest-3.5.0-py2.py3-none-any.whl.metadata", Linux311));
        Assert.Equal("py six setuptools attrs more-itertools pluggy", Needs("pytest-3.5.0-py2.py3-none-any.whl.metadata", Mac312));
        Assert.Equal("py six setuptools attrs more-itertools pluggy colorama", Needs("pytest-3.5.0-py2.py3-none-any.whl.metadata", Windows311));
    }

    [Fact]
    public void Clikit_and_tomlkit_and_or_python_version_markers()
    {
        Assert.Equal("pastel pylev", Needs("clikit-0.2.4-py2.py3-none-any.whl.metadata", Linux311));
        Assert.Equal("pastel pylev typing", Needs("clikit-0.2.4-py2.py3-none-any.whl.metadata", "3.4 manylinux1_x86_64"));
        Assert.Equal("", Needs("tomlkit-0.5.3-py2.py3-none-any.whl.metadata", Linux311));
        Assert.Equal("typing", Needs("tomlkit-0.5.3-py2.py3-none-any.whl.metadata", "3.4 manylinux1_x86_64"));
    }

    [Fact]
    public void Discord_py_2_0_0_extras()
    {
        const string file = "discord.py-2.0.0-py3-none-any.whl.metadata";
        Assert.Equal("aiohttp", Needs(file, Linux311));
        Assert.Equal("aiohttp pynacl", Needs(file, Linux311, "voice"));
        // PEP 685: "Speed" asks for the "speed" extra (packaging 21.3 compared extras as written and missed it).
        Assert.Equal("aiohttp orjson aiodns brotli cchardet pynacl", Needs(file, Linux311, "Speed", "voice"));
    }

    [Theory]
    [InlineData("discord.py-2.0.0-py3-none-any.whl.metadata", "3.7 win_amd64", false)]
    [InlineData("discord.py-2.0.0-py3-none-any.whl.metadata", "3.8 win_amd64", true)]
    [InlineData("black-21.11b0-py3-none-any.whl.metadata", "3.6 manylinux1_x86_64", false)]
    [InlineData("black-21.11b0-py3-none-any.whl.metadata", "3.6.2 manylinux1_x86_64", true)]
    [InlineData("pytest-3.5.0-py2.py3-none-any.whl.metadata", Linux311, true)]
    [InlineData("poetry_core-2.1.3-py3-none-any.whl.metadata", "3.14 manylinux_2_28_x86_64", true)]
    [InlineData("poetry_core-2.1.3-py3-none-any.whl.metadata", "3.8 manylinux_2_28_x86_64", false)]
    public void Requires_python_from_real_metadata(string file, string target, bool admitted) =>
        Assert.Equal(admitted, PythonTargetTests.Target(target).AdmitsPython(CoreMetadataTests.Load(file).RequiresPython));

    [Fact]
    public void Every_real_requirement_parses_and_names_a_valid_project()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "metadata"));
        Assert.True(files.Length >= 10);
        var count = 0;
        foreach (var path in files)
        {
            var metadata = CoreMetadataTests.Load(Path.GetFileName(path));
            foreach (var line in metadata.RequiresDist)
            {
                Assert.True(Requirement.TryParse(line, out var requirement, out var error), error);
                Assert.True(ProjectName.IsValid(requirement.Name));
                count++;
            }
        }

        Assert.True(count > 100, $"only {count} requirements read");
    }
}
