using CuratedIndex.Protocol;

namespace CuratedIndex.Protocol.Tests.Pep440;

public class Pep440VersionTests
{
    [Theory]
    [InlineData("1.0", "1.0")]
    [InlineData("v1.0", "1.0")]
    [InlineData("V1.0", "1.0")]
    [InlineData("  1.0\n", "1.0")]
    [InlineData("\t1.0 ", "1.0")]
    [InlineData("01.02.003", "1.2.3")]
    [InlineData("1", "1")]
    [InlineData("0", "0")]
    [InlineData("1.0.0.0.0", "1.0.0.0.0")]
    [InlineData("1!1.0", "1!1.0")]
    [InlineData("0!1.0", "1.0")]
    [InlineData("1.0a1", "1.0a1")]
    [InlineData("1.0A1", "1.0a1")]
    [InlineData("1.0alpha1", "1.0a1")]
    [InlineData("1.0.a1", "1.0a1")]
    [InlineData("1.0-a1", "1.0a1")]
    [InlineData("1.0_a.1", "1.0a1")]
    [InlineData("1.0a-1", "1.0a1")]
    [InlineData("1.0a", "1.0a0")]
    [InlineData("1.0b2", "1.0b2")]
    [InlineData("1.0beta2", "1.0b2")]
    [InlineData("1.0c1", "1.0rc1")]
    [InlineData("1.0pre1", "1.0rc1")]
    [InlineData("1.0preview1", "1.0rc1")]
    [InlineData("1.0RC1", "1.0rc1")]
    [InlineData("1.1RC1", "1.1rc1")]
    [InlineData("1.0-1", "1.0.post1")]
    [InlineData("1.0post", "1.0.post0")]
    [InlineData("1.0.post", "1.0.post0")]
    [InlineData("1.0.post1", "1.0.post1")]
    [InlineData("1.0-r4", "1.0.post4")]
    [InlineData("1.0rev4", "1.0.post4")]
    [InlineData("1.0-post-2", "1.0.post2")]
    [InlineData("1.0.POST_2", "1.0.post2")]
    [InlineData("1.0a1-1", "1.0a1.post1")]
    [InlineData("1.0dev", "1.0.dev0")]
    [InlineData("1.0-dev2", "1.0.dev2")]
    [InlineData("1.0_dev_2", "1.0.dev2")]
    [InlineData("1.0.DEV2", "1.0.dev2")]
    [InlineData("1.0a.dev1", "1.0a0.dev1")]
    [InlineData("1.0a.", "1.0a0")]
    [InlineData("5RC_", "5rc0")]
    [InlineData("1.0post_", "1.0.post0")]
    [InlineData("1.0a.-1", "1.0a0.post1")]
    [InlineData("1.0-dev-", "1.0.dev0")]
    [InlineData("1.0rc1.post2.dev3", "1.0rc1.post2.dev3")]
    [InlineData("1.0+ubuntu-1", "1.0+ubuntu.1")]
    [InlineData("1.0+Ubuntu_01", "1.0+ubuntu.1")]
    [InlineData("1.0+abc.5", "1.0+abc.5")]
    [InlineData("1.0+5", "1.0+5")]
    [InlineData("1!2.0.post1.dev3+ubuntu.1", "1!2.0.post1.dev3+ubuntu.1")]
    [InlineData("3.2.2-4", "3.2.2.post4")]
    [InlineData("2.3.0+cpu", "2.3.0+cpu")]
    public void TryParse_ValidVersion_ReturnsCanonicalForm(string text, string expected)
    {
        Assert.True(Pep440Version.TryParse(text, out var version));
        Assert.Equal(expected, version.ToString());
        Assert.Equal(expected, Pep440Version.Parse(text).ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1.0.x")]
    [InlineData("french toast")]
    [InlineData("2004d")]
    [InlineData("1.0+")]
    [InlineData("1.0+abc.")]
    [InlineData("1.0+a+b")]
    [InlineData("1..0")]
    [InlineData(".1")]
    [InlineData("1.")]
    [InlineData("1.0-")]
    [InlineData("1.0a1a1")]
    [InlineData("1.0.post1.post2")]
    [InlineData("1.0.dev1a1")]
    [InlineData("1.0.dev1.post1")]
    [InlineData("1!")]
    [InlineData("!1.0")]
    [InlineData("1!2!3")]
    [InlineData("1.0 1")]
    [InlineData("a1.0")]
    [InlineData("vv1.0")]
    [InlineData("1.0--1")]
    [InlineData("1.0-1-1")]
    [InlineData("1.0+ab c")]
    [InlineData("1.0\u0661")]
    [InlineData("1.0.*")]
    [InlineData("99999999999999999999")]
    [InlineData("1.99999999999999999999")]
    [InlineData("99999999999!1.0")]
    public void TryParse_InvalidVersion_ReturnsFalse(string? text)
    {
        Assert.False(Pep440Version.TryParse(text, out var version));
        Assert.Null(version);
    }

    [Fact]
    public void Parse_InvalidVersion_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => Pep440Version.Parse("french toast"));
    }

    [Theory]
    [InlineData(256, true)]
    [InlineData(257, false)]
    public void TryParse_LongInput_RejectedBeyondLimit(int length, bool expected)
    {
        // "1" followed by ".0" pairs, padded with a trailing '1' when the length is even.
        var text = "1" + string.Concat(Enumerable.Repeat(".0", (length - 1) / 2)) + ((length - 1) % 2 == 1 ? "1" : "");
        Assert.Equal(length, text.Length);
        Assert.Equal(expected, Pep440Version.TryParse(text, out _));
    }

    [Fact]
    public void Properties_FullVersion_ExposeEachPart()
    {
        var version = Pep440Version.Parse("1!2.0.3rc4.post5.dev6+Ubuntu-07");

        Assert.Equal(1, version.Epoch);
        Assert.Equal(new long[] { 2, 0, 3 }, version.Release);
        Assert.Equal("rc", version.PreLabel);
        Assert.Equal(4, version.Pre);
        Assert.Equal(5, version.Post);
        Assert.Equal(6, version.Dev);
        Assert.Equal("ubuntu.7", version.Local);
        Assert.True(version.IsPrerelease);
        Assert.True(version.IsDevRelease);
        Assert.True(version.IsPostRelease);
        Assert.Equal("1!2.0.3rc4.post5.dev6", version.Public.ToString());
        Assert.Equal("1!2.0.3", version.BaseVersion.ToString());
    }

    [Theory]
    [InlineData("1.0", false, false, false)]
    [InlineData("1.0a1", true, false, false)]
    [InlineData("1.0.dev1", true, true, false)]
    [InlineData("1.0.post1", false, false, true)]
    [InlineData("1.0.post1.dev1", true, true, true)]
    [InlineData("1.0+local", false, false, false)]
    public void Flags_Version_ReportPreDevAndPost(string text, bool pre, bool dev, bool post)
    {
        var version = Pep440Version.Parse(text);
        Assert.Equal(pre, version.IsPrerelease);
        Assert.Equal(dev, version.IsDevRelease);
        Assert.Equal(post, version.IsPostRelease);
    }

    [Fact]
    public void Properties_PlainRelease_HasNoSuffixes()
    {
        var version = Pep440Version.Parse("1.2");
        Assert.Equal(0, version.Epoch);
        Assert.Null(version.PreLabel);
        Assert.Null(version.Pre);
        Assert.Null(version.Post);
        Assert.Null(version.Dev);
        Assert.Null(version.Local);
    }

    // The ordering example of PEP 440 ("Summary of permitted suffixes and relative ordering"), plus epochs.
    private static readonly string[] OrderedVersions =
    [
        "1.0.dev456",
        "1.0a1",
        "1.0a2.dev456",
        "1.0a12.dev456",
        "1.0a12",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0rc1.dev456",
        "1.0rc1",
        "1.0",
        "1.0+abc.5",
        "1.0+abc.7",
        "1.0+5",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.0.15",
        "1.1.dev1",
        "1.1",
        "2.0",
        "10.0",
        "1!0.1",
        "1!1.0",
    ];

    public static TheoryData<string, string> AdjacentPairs()
    {
        var data = new TheoryData<string, string>();
        for (var i = 0; i + 1 < OrderedVersions.Length; i++)
        {
            data.Add(OrderedVersions[i], OrderedVersions[i + 1]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AdjacentPairs))]
    public void CompareTo_Pep440OrderingExample_EachIsLessThanTheNext(string lower, string higher)
    {
        var a = Pep440Version.Parse(lower);
        var b = Pep440Version.Parse(higher);

        Assert.True(a.CompareTo(b) < 0);
        Assert.True(b.CompareTo(a) > 0);
        Assert.True(a < b);
        Assert.True(b > a);
        Assert.False(a == b);
    }

    [Fact]
    public void Sort_ReversedOrderingExample_RestoresPep440Order()
    {
        var versions = OrderedVersions.Reverse().Select(Pep440Version.Parse).ToList();
        versions.Sort();
        Assert.Equal(OrderedVersions, versions.Select(v => v.ToString()));
    }

    [Theory]
    [InlineData("1.0+abc", "1.0+abc.1")]
    [InlineData("1.0+abc", "1.0+1")]
    [InlineData("1.0+9", "1.0+10")]
    [InlineData("1.0+a", "1.0+b")]
    [InlineData("1.0+abc.z", "1.0+abc.0")]
    [InlineData("1.0+9", "1.0+123456789012345678901234567890")]
    [InlineData("1.0a1", "1.0a1.post1")]
    [InlineData("1.0a1.post1", "1.0b1")]
    [InlineData("1.0.dev1", "1.0a1.dev1")]
    [InlineData("1.0.post1.dev1", "1.0.post1")]
    [InlineData("1.0", "1.0.0.1")]
    public void CompareTo_PackagingCases_FirstIsLower(string lower, string higher)
    {
        Assert.True(Pep440Version.Parse(lower) < Pep440Version.Parse(higher));
    }

    [Theory]
    [InlineData("1.0", "1.0.0")]
    [InlineData("1.0", "1.0.0.0")]
    [InlineData("1", "1.0")]
    [InlineData("1.0a", "1.0a0")]
    [InlineData("1.0-1", "1.0.post1")]
    [InlineData("1.0c1", "1.0rc1")]
    [InlineData("0!1.0", "1.0")]
    [InlineData("1.0+abc.01", "1.0+ABC.1")]
    [InlineData("1.0+abc-1", "1.0+abc_1")]
    [InlineData("v1.0.0", "1.0")]
    public void Equals_EquivalentSpellings_AreEqualWithSameHash(string left, string right)
    {
        var a = Pep440Version.Parse(left);
        var b = Pep440Version.Parse(right);

        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(0, a.CompareTo(b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData("1.0", "1.0+local")]
    [InlineData("1.0", "1.0.post0")]
    [InlineData("1.0", "1.0.dev0")]
    [InlineData("1!1.0", "1.0")]
    public void Equals_DifferentVersions_AreNotEqual(string left, string right)
    {
        Assert.NotEqual(Pep440Version.Parse(left), Pep440Version.Parse(right));
        Assert.True(Pep440Version.Parse(left) != Pep440Version.Parse(right));
    }

    [Fact]
    public void Release_TrailingZeros_KeptAsWritten()
    {
        Assert.Equal(new long[] { 1, 0, 0 }, Pep440Version.Parse("1.0.0").Release);
        Assert.Equal("1.0.0", Pep440Version.Parse("1.0.0").ToString());
    }

    [Fact]
    public void Release_MaxLongSegment_Parses()
    {
        var version = Pep440Version.Parse("9223372036854775807.1");
        Assert.Equal(long.MaxValue, version.Release[0]);
    }
}
