using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Protocol.Tests.SimpleApi;

/// <summary>Issue 9, hole 10: digests that cannot be right leave their file out of the page (both formats), listed in DroppedFiles.</summary>
public sealed class DigestValidationTests
{
    private static readonly Uri PageUrl = new("https://pypi.org/simple/demo/");
    private static readonly string Good = new('a', 64);

    [Theory]
    [InlineData("abc", "sha256 digest has 3 hex digits, not 64")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sha256 digest has 65 hex digits, not 64")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "sha256 digest is not hex")]
    public void HtmlReader_BadSha256Fragment_DropsTheFile(string digest, string problem)
    {
        var html = $"<a href=\"https://f/demo-1.0.tar.gz#sha256={digest}\">a</a><a href=\"https://f/demo-1.1.tar.gz#sha256={Good}\">b</a>";

        var page = SimpleHtmlReader.ReadProject(html, PageUrl, "demo");

        Assert.Equal("demo-1.1.tar.gz", Assert.Single(page.Files).Filename);
        Assert.Equal($"file 'demo-1.0.tar.gz': {problem}", Assert.Single(page.DroppedFiles));
    }

    [Theory]
    [InlineData("md5", 31)]
    [InlineData("sha1", 41)]
    [InlineData("sha512", 64)]
    public void HtmlReader_OtherKnownAlgorithmWithWrongLength_DropsTheFile(string name, int length)
    {
        var page = SimpleHtmlReader.ReadProject($"<a href=\"https://f/demo-1.0.tar.gz#{name}={new string('c', length)}\">a</a>", PageUrl, "demo");

        Assert.Empty(page.Files);
        Assert.Single(page.DroppedFiles);
    }

    [Fact]
    public void HtmlReader_NonHashFragment_KeepsTheFileWithoutHash()
    {
        var page = SimpleHtmlReader.ReadProject("<a href=\"https://f/demo-1.0.tar.gz#egg=demo\">a</a>", PageUrl, "demo");

        Assert.Null(Assert.Single(page.Files).Sha256);
        Assert.Empty(page.DroppedFiles);
    }

    [Fact]
    public void HtmlReader_BadMetadataDigest_OffersNoMetadata()
    {
        var page = SimpleHtmlReader.ReadProject($"<a href=\"https://f/demo-1.0.tar.gz#sha256={Good}\" data-core-metadata=\"sha256=abc\">a</a>", PageUrl, "demo");

        Assert.Null(Assert.Single(page.Files).CoreMetadata);
    }

    [Theory]
    [InlineData("abc", "hashes: sha256 digest has 3 hex digits, not 64")]
    [InlineData("zz", "hashes: sha256 digest is not hex")]
    public void JsonReader_BadSha256_DropsTheFile(string digest, string problem)
    {
        var json = "{\"meta\":{\"api-version\":\"1.1\"},\"name\":\"demo\",\"files\":["
            + $"{{\"filename\":\"demo-1.0.tar.gz\",\"url\":\"https://f/demo-1.0.tar.gz\",\"hashes\":{{\"sha256\":\"{digest}\"}}}},"
            + $"{{\"filename\":\"demo-1.1.tar.gz\",\"url\":\"https://f/demo-1.1.tar.gz\",\"hashes\":{{\"sha256\":\"{Good}\"}}}}]}}";

        var page = SimpleJsonReader.ReadProject(System.Text.Encoding.UTF8.GetBytes(json), PageUrl);

        Assert.Equal("demo-1.1.tar.gz", Assert.Single(page.Files).Filename);
        Assert.Equal($"file 'demo-1.0.tar.gz': {problem}", Assert.Single(page.DroppedFiles));
    }

    [Fact]
    public void JsonReader_BadMetadataDigest_OffersNoMetadata()
    {
        var json = "{\"meta\":{\"api-version\":\"1.1\"},\"name\":\"demo\",\"files\":["
            + $"{{\"filename\":\"demo-1.0.tar.gz\",\"url\":\"https://f/demo-1.0.tar.gz\",\"hashes\":{{\"sha256\":\"{Good}\"}},\"core-metadata\":{{\"sha256\":\"abc\"}}}}]}}";

        var file = Assert.Single(SimpleJsonReader.ReadProject(System.Text.Encoding.UTF8.GetBytes(json), PageUrl).Files);

        Assert.Null(file.CoreMetadata);
    }

    [Theory]
    [InlineData("sha256", 64, true)]
    [InlineData("sha256", 63, false)]
    [InlineData("sha384", 96, true)]
    [InlineData("blake2b", 128, true)]
    [InlineData("somefuturehash", 10, true)]
    public void DigestProblem_KnownLengthsAndHex(string name, int length, bool ok) =>
        Assert.Equal(ok, SimpleApiText.DigestProblem(name, new string('f', length)) is null);
}
