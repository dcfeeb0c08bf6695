using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

public class RequirementNamesTests
{
    [Theory]
    [InlineData("requests", "requests")]
    [InlineData("Requests==2.31.0", "requests")]
    [InlineData("  flask >= 2.0, <3  # web", "flask")]
    [InlineData("colourama[extra,other]~=1.0", "colourama")]
    [InlineData("python_dateutil; python_version >= \"3.8\"", "python-dateutil")]
    [InlineData("numpy \\", "numpy")]
    [InlineData("pkg @ https://example.invalid/pkg-1.0.tar.gz", "pkg")]
    [InlineData("zope.interface!=5.0", "zope-interface")]
    public void Parse_Requirement_ReturnsNormalizedName(string line, string expected) => Assert.Equal(expected, RequirementNames.Parse(line));

    [Theory]
    [InlineData("")]
    [InlineData("# a comment")]
    [InlineData("-r other.txt")]
    [InlineData("-e git+https://example.invalid/x.git#egg=x")]
    [InlineData("--index-url https://example.invalid/simple/")]
    [InlineData("git+https://example.invalid/x.git")]
    [InlineData("./local/package")]
    [InlineData("/abs/path")]
    public void Parse_NotARequirement_ReturnsNull(string line) => Assert.Null(RequirementNames.Parse(line));
}
