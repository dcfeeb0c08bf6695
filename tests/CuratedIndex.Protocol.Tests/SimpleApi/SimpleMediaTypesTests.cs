using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Protocol.Tests.SimpleApi;

public class SimpleMediaTypesTests
{
    [Theory]
    // PROTOCOL.md C5: real client headers.
    [InlineData("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", SimpleFormat.Json)] // pip >= 22.2, pdm
    [InlineData("text/html", SimpleFormat.Html)] // pip < 22.2
    [InlineData("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01", SimpleFormat.Json)] // uv
    [InlineData("application/vnd.pyx.simple.v1+msgpack, application/vnd.pyx.simple.v1+json;q=0.9, application/vnd.pypi.simple.v1+json;q=0.8, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01", SimpleFormat.Json)] // uv (pyx)
    [InlineData("application/vnd.pypi.simple.v1+json, */*;q=0.1", SimpleFormat.Json)] // poetry legacy
    [InlineData("application/vnd.pypi.simple.v1+json", SimpleFormat.Json)] // poetry PyPI, bandersnatch
    // PROTOCOL.md C4 / N1.
    [InlineData(null, SimpleFormat.Html)]
    [InlineData("", SimpleFormat.Html)]
    [InlineData("*/*", SimpleFormat.Html)]
    [InlineData("text/*", SimpleFormat.Html)]
    [InlineData("application/*", SimpleFormat.Html)] // v1+html is offered before v1+json
    [InlineData("application/vnd.pypi.simple.v1+json;q=0, */*", SimpleFormat.Html)]
    [InlineData("application/json", SimpleFormat.Html)] // no match → default
    [InlineData("application/vnd.pypi.simple.latest+json", SimpleFormat.Json)]
    [InlineData("application/vnd.pypi.simple.latest+html", SimpleFormat.Html)]
    [InlineData("text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.6", SimpleFormat.Json)]
    [InlineData("text/html;q=0.6, application/vnd.pypi.simple.v1+json;q=0.5", SimpleFormat.Html)]
    [InlineData("*/*;q=0.9, text/html;q=0.1", SimpleFormat.Html)] // v1+html still gets 0.9 from */*
    [InlineData("*/*;q=0.9, text/html;q=0.1, application/vnd.pypi.simple.v1+html;q=0.1", SimpleFormat.Json)] // most specific range wins
    [InlineData("APPLICATION/VND.PYPI.SIMPLE.V1+JSON", SimpleFormat.Json)]
    [InlineData("text/html;q=0, application/vnd.pypi.simple.v1+html;q=0, */*", SimpleFormat.Json)]
    [InlineData("*/*;q=0", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.v1+json;charset=\"utf-8\";q=1", SimpleFormat.Json)]
    [InlineData(",, application/vnd.pypi.simple.v1+json ,", SimpleFormat.Json)]
    // Garbage is treated as absent.
    [InlineData("application/vnd.pypi.simple.v1+json;q=2", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.v1+json;q=abc", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.v1+json, garbage", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.v1+json;q=\"unterminated", SimpleFormat.Html)]
    [InlineData("*/json", SimpleFormat.Html)]
    [InlineData("application/vnd.pypi.simple.v1+json\u0000", SimpleFormat.Html)]
    public void Negotiate_AcceptHeader_ChoosesLikePyPI(string? accept, SimpleFormat expected)
    {
        Assert.Equal(expected, SimpleMediaTypes.Negotiate(accept));
    }

    [Fact]
    public void Negotiate_OverlongHeader_TreatedAsAbsent()
    {
        static string Build(int fillers) =>
            "application/vnd.pypi.simple.v1+json, " + string.Join(", ", Enumerable.Repeat("text/plain;q=0.1", fillers));
        Assert.True(Build(600).Length > SimpleMediaTypes.MaxAcceptLength);
        Assert.Equal(SimpleFormat.Html, SimpleMediaTypes.Negotiate(Build(600)));
        Assert.True(Build(100).Length < SimpleMediaTypes.MaxAcceptLength);
        Assert.Equal(SimpleFormat.Json, SimpleMediaTypes.Negotiate(Build(100)));
    }

    [Theory]
    [InlineData(SimpleFormat.Json, "application/vnd.pypi.simple.v1+json")]
    [InlineData(SimpleFormat.Html, "text/html; charset=utf-8")]
    public void ContentType_Format_IsExactHeaderValue(SimpleFormat format, string expected)
    {
        Assert.Equal(expected, SimpleMediaTypes.ContentType(format));
    }
}
