using CuratedIndex.Protocol.Pep508;

namespace CuratedIndex.Protocol.Tests.Pep508;

public class RequirementTests
{
    private static Requirement Parse(string text)
    {
        Assert.True(Requirement.TryParse(text, out var requirement, out var error), error);
        return requirement;
    }

    [Fact]
    public void Bare_name()
    {
        var r = Parse("decorator");
        Assert.Equal("decorator", r.Name);
        Assert.Equal("decorator", r.Project);
        Assert.Empty(r.Extras);
        Assert.True(r.Specifier.IsEmpty);
        Assert.Null(r.Marker);
        Assert.Null(r.Url);
        Assert.Equal("decorator", r.Text);
    }

    [Theory]
    [InlineData("name>=1,<2")]
    [InlineData("name >= 1 , < 2")]
    [InlineData("name (>=1,<2)")]
    [InlineData("name(<2, >=1)")]
    [InlineData("name ( >=1 , <2 )")]
    [InlineData("\tname\t>=1,<2\t")]
    public void Specifier_with_or_without_parentheses(string text)
    {
        var r = Parse(text);
        Assert.Equal("name", r.Project);
        Assert.Equal("<2,>=1", r.Specifier.ToString());
        Assert.True(r.Specifier.Contains(Pep440Version.Parse("1.5")));
        Assert.False(r.Specifier.Contains(Pep440Version.Parse("2.0")));
        Assert.Null(r.Marker);
    }

    [Fact]
    public void Name_is_normalized_for_the_project_and_kept_as_written()
    {
        var r = Parse("Prompt_Toolkit (<2.1.0,>=2.0.0)");
        Assert.Equal("Prompt_Toolkit", r.Name);
        Assert.Equal("prompt-toolkit", r.Project);
        Assert.Equal("<2.1.0,>=2.0.0", r.Specifier.ToString());
    }

    [Fact]
    public void Extras_specifier_and_marker()
    {
        var r = Parse("coverage[toml, Extra_B,extra.b] (>=1) ; python_version < \"3.11\" and extra == 'test'");
        Assert.Equal("coverage", r.Project);
        Assert.Equal(["toml", "extra-b"], r.Extras);
        Assert.Equal(">=1", r.Specifier.ToString());
        Assert.NotNull(r.Marker);
        Assert.Equal("python_version < \"3.11\" and extra == 'test'", r.Marker.ToString());
    }

    [Theory]
    [InlineData("win-unicode-console (>=0.5); sys_platform == \"win32\" and python_version < \"3.6\"")]
    [InlineData("win-unicode-console>=0.5;sys_platform == \"win32\" and python_version < \"3.6\"")]
    [InlineData("win-unicode-console >=0.5 ; sys_platform == \"win32\" and python_version < \"3.6\"")]
    public void Marker_after_semicolon(string text)
    {
        var r = Parse(text);
        Assert.Equal("win-unicode-console", r.Project);
        var windows36 = new MarkerEnvironment("3.5", "3.5.4", "nt", "win32", "Windows", "AMD64");
        var linux = new MarkerEnvironment("3.5", "3.5.4", "posix", "linux", "Linux", "x86_64");
        Assert.True(r.AppliesTo(windows36, new HashSet<string>()));
        Assert.False(r.AppliesTo(linux, new HashSet<string>()));
    }

    [Fact]
    public void Name_and_marker_without_specifier()
    {
        var r = Parse("pexpect; sys_platform != \"win32\"");
        Assert.True(r.Specifier.IsEmpty);
        Assert.Equal("sys_platform != \"win32\"", r.Marker?.ToString());
        r = Parse("appnope;sys_platform=='darwin'");
        Assert.Equal("appnope", r.Project);
        Assert.Equal("sys_platform=='darwin'", r.Marker?.ToString());
        r = Parse("name[] ; os_name == 'nt'");
        Assert.Empty(r.Extras);
    }

    [Fact]
    public void Direct_reference_with_and_without_marker()
    {
        var r = Parse("pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686");
        Assert.Equal("https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686", r.Url);
        Assert.True(r.Specifier.IsEmpty);
        Assert.Null(r.Marker);

        r = Parse("name[fred] @ file:///tmp/name-1.0-py3-none-any.whl ; python_version >= '3.8'");
        Assert.Equal("file:///tmp/name-1.0-py3-none-any.whl", r.Url);
        Assert.Equal(["fred"], r.Extras);
        Assert.Equal("python_version >= '3.8'", r.Marker?.ToString());

        r = Parse("name@https://example.org/n.whl   ");
        Assert.Equal("https://example.org/n.whl", r.Url);
    }

    [Theory]
    [InlineData("", "the requirement is empty")]
    [InlineData("   ", "the requirement is empty")]
    [InlineData(">=1.0", "expected a project name at the start")]
    [InlineData("-name", "'-name' is not a valid project name")]
    [InlineData("name-", "'name-' is not a valid project name")]
    [InlineData("name extra", "expected a version specifier, ';' or the end after 'name'")]
    [InlineData("name >=1.0 <2", "'>=1.0 <2' is not a valid version specifier")]
    [InlineData("name >=1.0,,<2", "a version specifier between commas is empty")]
    [InlineData("name >= one", "'>= one' is not a valid version specifier")]
    [InlineData("name (>=1.0", "'(' around the version specifier is never closed")]
    [InlineData("name (>=1.0) extra", "expected ';' or the end after the version specifier")]
    [InlineData("name[a b]", "'a b' is not a valid extra name")]
    [InlineData("name[a,]", "an extra name is empty")]
    [InlineData("name[a", "'[' is never closed")]
    [InlineData("name @", "expected a URL after '@'")]
    [InlineData("name @ https://example.org/n.whl; os_name == 'nt'", "expected ';' (after the URL and whitespace) or the end")]
    [InlineData("name; pyhton_version < '3'", "unknown marker variable 'pyhton_version'")]
    [InlineData("name;", "the marker is empty")]
    [InlineData("name>=1.0 ; os_name = 'nt'", "expected an operator")]
    public void Invalid_requirements_are_refused_with_a_one_line_reason(string text, string expected)
    {
        Assert.False(Requirement.TryParse(text, out var requirement, out var error));
        Assert.Null(requirement);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Hostile_input_is_bounded()
    {
        Assert.False(Requirement.TryParse(null, out _, out var error));
        Assert.Equal("the requirement is missing", error);
        Assert.False(Requirement.TryParse("a" + new string(' ', Requirement.MaxInputLength), out _, out error));
        Assert.Contains("longer than 8192", error, StringComparison.Ordinal);
        Assert.False(Requirement.TryParse("name\n; os_name == 'nt'", out _, out error));
        Assert.DoesNotContain('\n', error);
    }
}
