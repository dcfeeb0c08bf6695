using CuratedIndex.Protocol.Pep508;

namespace CuratedIndex.Protocol.Tests.Pep508;

public class MarkerTests
{
    // What packaging.markers.default_environment() gives on CPython 3.11.4, Linux x86_64, and on 3.12.1, Windows x64.
    private static readonly MarkerEnvironment Linux311 = new(
        "3.11", "3.11.4", "posix", "linux", "Linux", "x86_64", PlatformRelease: "6.1.0-13-amd64");

    private static readonly MarkerEnvironment Windows312 = new("3.12", "3.12.1", "nt", "win32", "Windows", "AMD64");

    private static readonly IReadOnlySet<string> NoExtras = new HashSet<string>();

    private static bool Eval(string marker, MarkerEnvironment environment, params string[] extras)
    {
        Assert.True(Marker.TryParse(marker, out var parsed, out var error), error);
        return parsed.Evaluate(environment, new HashSet<string>(extras));
    }

    [Theory]
    [InlineData("sys_platform == \"win32\"", false, true)]
    [InlineData("sys_platform != 'win32'", true, false)]
    [InlineData("os_name == \"nt\"", false, true)]
    [InlineData("platform_system == \"Linux\"", true, false)]
    [InlineData("platform_machine == \"x86_64\"", true, false)]
    [InlineData("platform_machine == \"AMD64\"", false, true)]
    [InlineData("\"win32\" == sys_platform", false, true)]
    [InlineData("'linux' in sys_platform", true, false)]
    [InlineData("'win' not in sys_platform", true, false)]
    [InlineData("sys.platform == 'win32'", false, true)]
    [InlineData("os.name == 'posix'", true, false)]
    [InlineData("python_implementation == 'CPython'", true, true)]
    [InlineData("platform.python_implementation == 'PyPy'", false, false)]
    [InlineData("implementation_name == \"cpython\"", true, true)]
    public void Platform_variables_compare_as_strings(string marker, bool onLinux, bool onWindows)
    {
        Assert.Equal(onLinux, Eval(marker, Linux311));
        Assert.Equal(onWindows, Eval(marker, Windows312));
    }

    [Theory]
    [InlineData("python_version < \"3.8\"", false)]
    [InlineData("python_version >= \"3.8\"", true)]
    [InlineData("python_version > \"3.9\"", true)]
    [InlineData("python_version == \"3.11\"", true)]
    [InlineData("python_version == \"3.1\"", false)]
    // PEP 440, not string order: "3.11" < "3.9" as strings, but not as versions.
    [InlineData("python_version < \"3.9\"", false)]
    [InlineData("\"3.9\" < python_version", true)]
    [InlineData("python_version == \"3.*\"", true)]
    [InlineData("python_version != \"3.11.*\"", false)]
    [InlineData("python_version ~= \"3.8\"", true)]
    [InlineData("python_version ~= \"3.12\"", false)]
    [InlineData("python_full_version >= \"3.11.4\"", true)]
    [InlineData("python_full_version >= \"3.11.5\"", false)]
    [InlineData("python_full_version < \"3.11.4rc1\"", false)]
    [InlineData("implementation_version == \"3.11.4\"", true)]
    [InlineData("platform_release >= \"5.4\"", true)]
    // Not a PEP 440 specifier: packaging falls back to comparing strings.
    [InlineData("python_version in \"3.10 3.11 3.12\"", true)]
    [InlineData("python_version in \"2.7 3.4\"", false)]
    // ">3.6.*" is no specifier, so this is the string comparison "3.11" > "3.6.*", which is false.
    [InlineData("python_version > \"3.6.*\"", false)]
    [InlineData("python_version === \"3.11\"", true)]
    public void Version_variables_compare_as_pep440(string marker, bool expected) =>
        Assert.Equal(expected, Eval(marker, Linux311));

    [Fact]
    public void Platform_release_that_is_not_a_version_compares_as_a_string()
    {
        var mac = Linux311 with { PlatformRelease = "23.1.0-custom build" };
        Assert.True(Eval("platform_release == '23.1.0-custom build'", mac));
        Assert.False(Eval("platform_release >= '24'", mac));
        Assert.False(Eval("platform_release >= '1'", Linux311 with { PlatformRelease = "" }));
    }

    [Theory]
    [InlineData("python_version < \"3.8\" and sys_platform == \"win32\"", false)]
    [InlineData("python_version < \"3.8\" or sys_platform == \"linux\"", true)]
    // 'and' binds tighter than 'or'.
    [InlineData("sys_platform == 'linux' or sys_platform == 'win32' and python_version < '3'", true)]
    [InlineData("(sys_platform == 'linux' or sys_platform == 'win32') and python_version < '3'", false)]
    [InlineData("python_version >= \"2.7\" and python_version < \"2.8\" or python_version >= \"3.4\" and python_version < \"3.5\"", false)]
    [InlineData("sys_platform == \"win32\" and (python_version == \"2.7\" or python_version == \"2.6\")", false)]
    [InlineData("((python_version>'3'))", true)]
    [InlineData("python_version>'3'and(os_name=='posix')", true)]
    [InlineData("  python_version\t>=\t'3.0'  ", true)]
    public void And_or_and_parentheses_combine(string marker, bool expected) =>
        Assert.Equal(expected, Eval(marker, Linux311));

    [Fact]
    public void Extra_is_false_without_extras_and_holds_for_any_asked_extra()
    {
        Assert.False(Eval("extra == 'socks'", Linux311));
        Assert.True(Eval("extra == 'socks'", Linux311, "socks"));
        Assert.True(Eval("extra == 'socks'", Linux311, "security", "socks"));
        Assert.False(Eval("extra == 'socks'", Linux311, "security"));
        // Each extra is evaluated on its own, as pip does.
        Assert.False(Eval("extra == 'a' and extra == 'b'", Linux311, "a", "b"));
        Assert.True(Eval("extra != 'a'", Linux311));
    }

    [Theory]
    // PEP 685: both sides compare PEP 503 normalized.
    [InlineData("extra == 'Foo_Bar'", "foo-bar")]
    [InlineData("extra == \"foo.bar\"", "Foo__Bar")]
    [InlineData("'FOO-BAR' == extra", "foo-bar")]
    public void Extra_compares_normalized(string marker, string asked) => Assert.True(Eval(marker, Linux311, asked));

    [Fact]
    public void Extra_and_platform_combine()
    {
        const string marker = "sys_platform == \"win32\" and extra == 'socks'";
        Assert.False(Eval(marker, Linux311, "socks"));
        Assert.True(Eval(marker, Windows312, "socks"));
        Assert.False(Eval(marker, Windows312));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("python_version", "expected an operator")]
    [InlineData("python_version <", "expected a marker variable or a quoted string, found the end")]
    [InlineData("python_version < \"3.8", "never closed")]
    [InlineData("python_version < '3.8\"", "never closed")]
    [InlineData("pyhton_version < '3.8'", "unknown marker variable 'pyhton_version'")]
    [InlineData("extras == 'a'", "unknown marker variable 'extras'")]
    [InlineData("python_version = '3.8'", "expected an operator")]
    [InlineData("python_version << '3.8'", "expected a marker variable")]
    [InlineData("python_version not '3.8'", "expected 'in' after 'not'")]
    [InlineData("python_version < '3.8' and", "found the end")]
    [InlineData("python_version < '3.8' xor os_name == 'nt'", "expected 'and', 'or' or the end, found 'xor'")]
    [InlineData("python_version < '3.8')", "unmatched ')'")]
    [InlineData("(python_version < '3.8'", "'(' is never closed")]
    [InlineData("'3.8' == '3.8'", "compares two strings")]
    [InlineData("python_version == python_full_version", "compares two variables")]
    [InlineData("os_name ~= 'posix'", "'~=' needs a version variable")]
    [InlineData("python_version ~= '3'", "'~=' needs a version variable")]
    [InlineData("python_version < '3.8'andos_name == 'nt'", "expected 'and', 'or' or the end")]
    [InlineData("python_version < '3.8'\nand os_name == 'nt'", "expected 'and', 'or' or the end, found '?'")]
    public void Invalid_markers_are_refused_with_a_one_line_reason(string text, string expected)
    {
        Assert.False(Marker.TryParse(text, out var marker, out var error));
        Assert.Null(marker);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Error_names_the_column()
    {
        Assert.False(Marker.TryParse("os_name == 'nt' or pyhton_version < '3'", out _, out var error));
        Assert.Equal("unknown marker variable 'pyhton_version' at column 20 of marker 'os_name == 'nt' or pyhton_version < '3''", error);
    }

    [Fact]
    public void Hostile_input_is_bounded()
    {
        Assert.False(Marker.TryParse(null, out _, out var error));
        Assert.Equal("the marker is missing", error);

        Assert.False(Marker.TryParse(new string(' ', Marker.MaxInputLength + 1), out _, out error));
        Assert.Contains("longer than 4096", error, StringComparison.Ordinal);

        // Deep nesting is refused rather than recursing without limit.
        var deep = new string('(', 1000) + "os_name == 'nt'" + new string(')', 1000);
        Assert.False(Marker.TryParse(deep, out _, out error));
        Assert.Contains("nest deeper than 32", error, StringComparison.Ordinal);

        var nested = new string('(', 20) + "os_name == 'posix'" + new string(')', 20);
        Assert.True(Eval(nested, Linux311));
    }

    [Fact]
    public void ToString_is_the_trimmed_text_and_UsesExtra_reports_extra()
    {
        Assert.True(Marker.TryParse("  python_version < \"3.8\" and extra == 'X' ", out var marker, out _));
        Assert.Equal("python_version < \"3.8\" and extra == 'X'", marker.ToString());
        Assert.True(marker.UsesExtra);
        Assert.True(Marker.TryParse("os_name == 'nt'", out marker, out _));
        Assert.False(marker.UsesExtra);
        Assert.False(marker.Evaluate(Linux311, NoExtras));
    }
}
