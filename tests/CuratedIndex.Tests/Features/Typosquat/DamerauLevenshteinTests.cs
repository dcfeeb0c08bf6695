using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Tests.Features.Typosquat;

public class DamerauLevenshteinTests
{
    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("requests", "requests", 0)]
    [InlineData("requests", "reqeusts", 1)] // transposition
    [InlineData("ab", "ba", 1)]
    [InlineData("ca", "abc", 3)] // optimal string alignment: no edit of an already transposed pair
    [InlineData("urllib3", "urlib3", 1)]
    [InlineData("colorama", "colourama", 1)]
    [InlineData("numpy", "nunpy", 1)]
    [InlineData("flask", "django", 5)]
    public void Distance_KnownPairs_MatchesHandCount(string a, string b, int expected)
    {
        Assert.Equal(expected, DamerauLevenshtein.Distance(a, b));
        Assert.Equal(expected, DamerauLevenshtein.Distance(b, a));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("abcd", "", 4)]
    public void Distance_EmptyStrings_IsOtherLength(string a, string b, int expected) =>
        Assert.Equal(expected, DamerauLevenshtein.Distance(a, b));

    [Theory]
    [InlineData("kitten", "sitting", 1, 2)]
    [InlineData("kitten", "sitting", 2, 3)]
    [InlineData("kitten", "sitting", 3, 3)]
    [InlineData("a", "abcdefgh", 2, 3)] // the length difference alone exceeds the cut-off
    [InlineData("matplotlib", "requests", 1, 2)]
    public void Distance_CutOff_ReturnsMaxPlusOneWhenExceeded(string a, string b, int max, int expected) =>
        Assert.Equal(expected, DamerauLevenshtein.Distance(a, b, max));

    [Fact]
    public void Distance_LongerThanStackBuffer_UsesPooledRows()
    {
        var a = new string('a', 300) + "xy";
        var b = new string('a', 300) + "yx";
        Assert.Equal(1, DamerauLevenshtein.Distance(a, b));
        Assert.Equal(300, DamerauLevenshtein.Distance(new string('a', 300), new string('b', 300)));
        Assert.Equal(6, DamerauLevenshtein.Distance(new string('a', 300), new string('b', 300), 5));
    }
}
