using CuratedIndex.Hosting;
using Microsoft.Extensions.Primitives;

namespace CuratedIndex.Tests.Hosting;

public sealed class AcceptEncodingTests
{
    [Theory]
    [InlineData("gzip")]
    [InlineData("GZIP")]
    [InlineData("gzip, deflate")] // requests (pip's vendored copy)
    [InlineData("gzip, deflate, br, zstd")]
    [InlineData("deflate, x-gzip")]
    [InlineData("*")]
    [InlineData("br;q=1.0, gzip;q=0.8")]
    [InlineData(" gzip ; q=0.5 ")]
    [InlineData("gzip;level=1;q=0.3")]
    [InlineData("identity;q=0.5, gzip")]
    [InlineData("gzip, identity")]
    public void AcceptsGzip_GzipAccepted_True(string header) => Assert.True(AcceptEncoding.AcceptsGzip(header));

    [Theory]
    [InlineData("")]
    [InlineData("identity")]
    [InlineData("br, deflate")]
    [InlineData("gzip;q=0")]
    [InlineData("gzip;q=0.000")]
    [InlineData("*;q=0")]
    [InlineData("*, gzip;q=0")]
    [InlineData("identity, gzip;q=0.5")]
    [InlineData("gzip;q=abc")]
    [InlineData("gzip;q=2")]
    [InlineData("gzipx")]
    [InlineData(",;,")]
    public void AcceptsGzip_GzipNotAccepted_False(string header) => Assert.False(AcceptEncoding.AcceptsGzip(header));

    [Fact]
    public void AcceptsGzip_NoHeader_False() => Assert.False(AcceptEncoding.AcceptsGzip(StringValues.Empty));

    [Fact]
    public void AcceptsGzip_GzipInASecondHeaderLine_True() =>
        Assert.True(AcceptEncoding.AcceptsGzip(new StringValues(["br", "gzip"])));
}
