using CuratedIndex.Hosting;
using Microsoft.Extensions.Primitives;

namespace CuratedIndex.Tests.Hosting;

public sealed class PlainResultsTests
{
    private const string ETag = "\"0123abcd\"";

    [Theory]
    [InlineData("\"0123abcd\"")]
    [InlineData("W/\"0123abcd\"")]
    [InlineData("\"other\", \"0123abcd\"")]
    [InlineData("\"other\",W/\"0123abcd\" ")]
    [InlineData("*")]
    public void IfNoneMatchMatches_HeaderNamingTheTag_Matches(string header) =>
        Assert.True(PlainResults.IfNoneMatchMatches(header, ETag));

    [Theory]
    [InlineData("")]
    [InlineData("\"0123abc\"")]
    [InlineData("\"0123abcd")]
    [InlineData("\"other\", \"another\"")]
    [InlineData(",")]
    public void IfNoneMatchMatches_HeaderNotNamingTheTag_DoesNotMatch(string header) =>
        Assert.False(PlainResults.IfNoneMatchMatches(header, ETag));

    [Fact]
    public void IfNoneMatchMatches_TagInASecondHeaderLine_Matches() =>
        Assert.True(PlainResults.IfNoneMatchMatches(new StringValues(["\"other\"", "\"0123abcd\""]), ETag));

    [Fact]
    public void IfNoneMatchMatches_NoHeader_DoesNotMatch() =>
        Assert.False(PlainResults.IfNoneMatchMatches(StringValues.Empty, ETag));
}
