using CuratedIndex.Protocol;

namespace CuratedIndex.Protocol.Tests.Pep440;

public class VersionSpecifierSetTests
{
    [Theory]
    // Compatible release, PEP 440 examples.
    [InlineData("~=2.2", "2.2", true)]
    [InlineData("~=2.2", "2.3", true)]
    [InlineData("~=2.2", "2.9.9", true)]
    [InlineData("~=2.2", "3.0", false)]
    [InlineData("~=2.2", "2.1", false)]
    [InlineData("~=2.2", "2.2.post3", true)]
    [InlineData("~=1.4.5", "1.4.5", true)]
    [InlineData("~=1.4.5", "1.4.6", true)]
    [InlineData("~=1.4.5", "1.5.0", false)]
    [InlineData("~=1.4.5", "1.4.4", false)]
    [InlineData("~=2.2.post3", "2.2.post3", true)]
    [InlineData("~=2.2.post3", "2.3", true)]
    [InlineData("~=2.2.post3", "2.2", false)]
    [InlineData("~=2.2.post3", "3.0", false)]
    [InlineData("~=1.4.5a4", "1.4.5a4", true)]
    [InlineData("~=1.4.5a4", "1.4.5", true)]
    [InlineData("~=1.4.5a4", "1.5", false)]
    [InlineData("~=2.2.0", "2.2.1", true)]
    [InlineData("~=2.2.0", "2.3", false)]
    [InlineData("~=1!1.0", "1!1.5", true)]
    [InlineData("~=1!1.0", "1.5", false)]
    // Version matching and prefix matching.
    [InlineData("==2", "2.0", true)]
    [InlineData("==2.0", "2.0.0", true)]
    [InlineData("==2.0.0", "2", true)]
    [InlineData("==2.0", "2.0.1", false)]
    [InlineData("==1.1", "1.1.post1", false)]
    [InlineData("==1.1.*", "1.1.post1", true)]
    [InlineData("==1.1.*", "1.1", true)]
    [InlineData("==1.1.*", "1.1.0", true)]
    [InlineData("==1.1.*", "1.1.5", true)]
    [InlineData("==1.1.*", "1.10", false)]
    [InlineData("==1.1.*", "1.2", false)]
    [InlineData("==2.*", "2", true)]
    [InlineData("==2.0.*", "2", true)]
    [InlineData("==2.*", "2.0+deadbeef", true)]
    [InlineData("==1.*", "1!1.0", false)]
    [InlineData("!=1.1", "1.1.post1", true)]
    [InlineData("!=1.1.*", "1.1.post1", false)]
    [InlineData("!=1.1.*", "1.2", true)]
    [InlineData("!=2.0", "2.0.0", false)]
    // Local versions: a public specifier ignores the candidate's local label.
    [InlineData("==1.0", "1.0+local.7", true)]
    [InlineData("==1.0+local.7", "1.0+local.7", true)]
    [InlineData("==1.0+local.7", "1.0+LOCAL-07", true)]
    [InlineData("==1.0+local.7", "1.0", false)]
    [InlineData("==1.0+local.7", "1.0+local.8", false)]
    [InlineData("!=1.0", "1.0+local", false)]
    [InlineData("<=1.0", "1.0+local", true)]
    [InlineData(">=1.0", "1.0+local", true)]
    // Ordered comparisons.
    [InlineData("<=2", "2.0", true)]
    [InlineData(">=2", "2.0", true)]
    [InlineData("<3", "2.0", true)]
    [InlineData(">1", "2.0", true)]
    [InlineData(">2", "2.0.1", true)]
    [InlineData(">2", "2.0", false)]
    [InlineData(">2", "2.0.post1", false)]
    [InlineData(">2.0.post0", "2.0.post1", true)]
    [InlineData(">2", "2.0+local", false)]
    [InlineData(">2", "2.1+local", true)]
    [InlineData("<2", "1.9", true)]
    [InlineData("<2", "2.0", false)]
    [InlineData("<2", "2.0.post1", false)]
    // Sets.
    [InlineData(">=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*", "2.7.18", true)]
    [InlineData(">=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*", "3.2.5", false)]
    [InlineData(">=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*", "3.4", true)]
    [InlineData(">=3.7,<3.11", "3.11", false)]
    [InlineData(">=3.7,<3.11", "3.10.12", true)]
    [InlineData("", "0.0.1", true)]
    [InlineData("", "1!99", true)]
    public void Contains_FinalReleases_FollowsPep440(string specifiers, string version, bool expected)
    {
        var set = VersionSpecifierSet.Parse(specifiers);
        Assert.Equal(expected, set.Contains(Pep440Version.Parse(version)));
        Assert.Equal(expected, set.IsSatisfiedBy(version));
    }

    [Theory]
    [InlineData(">=1.0", "1.1a1", null, false)]
    [InlineData(">=1.0", "1.1a1", true, true)]
    [InlineData(">=1.0", "1.1.dev1", null, false)]
    [InlineData(">=1.0a1", "1.1a1", null, true)]
    [InlineData(">=1.0a1", "1.1a1", false, false)]
    [InlineData(">=1.0.dev1", "1.1.dev1", null, true)]
    [InlineData("==1.0a1", "1.0a1", null, true)]
    [InlineData("~=1.4.5a4", "1.4.6a1", null, true)]
    [InlineData("!=1.0a1", "1.1a1", null, false)]
    [InlineData(">=1.0,<2.0a1", "1.5a1", null, true)]
    [InlineData("", "1.0a1", null, false)]
    [InlineData("", "1.0a1", true, true)]
    [InlineData("<2", "2.0a1", true, false)]
    [InlineData("<2", "1.9a1", true, true)]
    [InlineData("<2.0a2", "2.0a1", null, true)]
    [InlineData("<2.0.dev1", "2.0.dev0", null, true)]
    [InlineData("==1.*", "1.0.dev1", true, true)]
    [InlineData("==1.*", "1.0.dev1", null, false)]
    public void Contains_Prereleases_ExcludedUnlessNamedOrRequested(string specifiers, string version, bool? include, bool expected)
    {
        var set = VersionSpecifierSet.Parse(specifiers);
        Assert.Equal(expected, set.Contains(Pep440Version.Parse(version), include));
    }

    [Theory]
    [InlineData("===foobar", "foobar", true)]
    [InlineData("===foobar", "FooBar", true)]
    [InlineData("===foobar", "foobar1", false)]
    [InlineData("===1.0", "1.0", true)]
    [InlineData("===1.0", "1.0.0", false)]
    [InlineData("===1.0", " 1.0 ", true)]
    [InlineData("===2004d", "2004d", true)]
    [InlineData("===2004d,===2004D", "2004d", true)]
    [InlineData(">=1.0", "2004d", false)]
    [InlineData("", "2004d", false)]
    [InlineData("===1.0a1", "1.0a1", true)]
    public void IsSatisfiedBy_ArbitraryEquality_ComparesStrings(string specifiers, string versionText, bool expected)
    {
        Assert.Equal(expected, VersionSpecifierSet.Parse(specifiers).IsSatisfiedBy(versionText));
    }

    [Theory]
    [InlineData("===1.0", "1.0", true)]
    [InlineData("===1.0", "1.0.0", false)]
    [InlineData("===1.0", "v1.0", true)]
    public void Contains_ArbitraryEquality_ComparesCanonicalForm(string specifiers, string version, bool expected)
    {
        Assert.Equal(expected, VersionSpecifierSet.Parse(specifiers).Contains(Pep440Version.Parse(version)));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData(" ", "")]
    [InlineData(",", "")]
    [InlineData(">=3.6,", ">=3.6")]
    [InlineData(">= 1.0", ">=1.0")]
    [InlineData(" >=2.7, !=3.0.*, !=3.1.* ", "!=3.0.*,!=3.1.*,>=2.7")]
    [InlineData(">=1.0A1", ">=1.0a1")]
    [InlineData("==1.0-1", "==1.0.post1")]
    [InlineData(">=1.0,>=1.0", ">=1.0")]
    [InlineData("~=3.4", "~=3.4")]
    [InlineData("~=2.2.0", "~=2.2.0")]
    [InlineData("==v1.0.*", "==1.0.*")]
    [InlineData("==1.0+Local-1", "==1.0+local.1")]
    [InlineData("===FooBar", "===FooBar")]
    [InlineData("<4,>=3.8", "<4,>=3.8")]
    public void ToString_ParsedSet_IsNormalizedAndSorted(string text, string expected)
    {
        Assert.Equal(expected, VersionSpecifierSet.Parse(text).ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(">=3.6.*")]
    [InlineData(">=2.7.*, <4")]
    [InlineData("~=1")]
    [InlineData("~=1.*")]
    [InlineData("~=1.0+local")]
    [InlineData(">=1.0+local")]
    [InlineData("<1.0.*")]
    [InlineData("==1.0a1.*")]
    [InlineData("==1.0+local.*")]
    [InlineData("==1.*.*")]
    [InlineData("=>1.0")]
    [InlineData("=1.0")]
    [InlineData("1.0")]
    [InlineData(">=")]
    [InlineData("== 1.0 1")]
    [InlineData(">=1.0;")]
    [InlineData("===a b")]
    [InlineData("===a;b")]
    [InlineData(">=french toast")]
    [InlineData(">=1.0 <2.0")]
    [InlineData(">=99999999999999999999")]
    [InlineData("python_version >= '3.6'")]
    public void TryParse_InvalidOrLegacy_ReturnsFalseWithoutThrowing(string? text)
    {
        Assert.False(VersionSpecifierSet.TryParse(text, out var set));
        Assert.Null(set);
    }

    [Fact]
    public void Parse_Invalid_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => VersionSpecifierSet.Parse(">=3.6.*"));
    }

    [Fact]
    public void TryParse_OverlongInput_ReturnsFalse()
    {
        var text = string.Join(',', Enumerable.Repeat(">=1.0", 200));
        Assert.False(VersionSpecifierSet.TryParse(text, out _));
    }

    [Fact]
    public void IsEmpty_EmptyAndNonEmptySets_Reported()
    {
        Assert.True(VersionSpecifierSet.Parse("").IsEmpty);
        Assert.False(VersionSpecifierSet.Parse(">=1").IsEmpty);
    }

    [Theory]
    [InlineData("==3.0.3", "3.0.3")]
    [InlineData("== 1.0+local.1", "1.0+local.1")]
    [InlineData("==2.0rc1", "2.0rc1")]
    [InlineData("==1.0,==1.0", "1.0")]
    [InlineData("==1.*", null)]
    [InlineData("===1.0", null)]
    [InlineData(">=2,<3", null)]
    [InlineData("==1.0,!=1.1", null)]
    [InlineData("~=1.0", null)]
    [InlineData("", null)]
    public void ExactVersion_OnlyForSingleEqualsWithoutWildcard(string text, string? expected)
    {
        var set = VersionSpecifierSet.Parse(text);
        Assert.Equal(expected, set.ExactVersion?.ToString());
    }
}
