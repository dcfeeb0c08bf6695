using System.Text;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Protocol.Tests.SimpleApi;

public class SimpleHtmlReaderTests
{
    private const string Micropip = "micropip/tests/test_data/pypi_response/";

    private static ProjectPage Read(string html, string url = "https://pypi.org/simple/demo/") =>
        SimpleHtmlReader.ReadProject(html, new Uri(url), "demo");

    [Theory]
    [InlineData("black")]
    [InlineData("pytz")]
    [InlineData("snowballstemmer")]
    public void ReadProject_HtmlAndJsonCapturesOfSameProject_HaveSameFiles(string project)
    {
        var pageUrl = new Uri($"https://pypi.org/simple/{project}/");
        var json = SimpleJsonReader.ReadProject(Fixture.Bytes($"{Micropip}{project}_simple.json"), pageUrl);
        var html = SimpleHtmlReader.ReadProject(Fixture.Text($"{Micropip}{project}_simple.html"), pageUrl, project);

        Assert.Equal(json.Files.Count, html.Files.Count);
        Assert.Equal(json.LastSerial, html.LastSerial);
        Assert.Equal(json.ApiVersion, html.ApiVersion);
        for (var i = 0; i < json.Files.Count; i++)
        {
            var (j, h) = (json.Files[i], html.Files[i]);
            Assert.Equal(j.Filename, h.Filename);
            Assert.Equal(j.Hashes, h.Hashes);
            Assert.Equal(j.RequiresPython, h.RequiresPython);
            Assert.Equal(j.IsYanked, h.IsYanked);
            Assert.Equal(j.YankedReason, h.YankedReason);
        }
    }

    [Fact]
    public void ReadProject_BlackCapture_YankedReasonAndSerial()
    {
        var page = SimpleHtmlReader.ReadProject(Fixture.Text(Micropip + "black_simple.html"), new Uri("https://pypi.org/simple/black/"), "black");
        var yanked = page.Files.Single(f => f.Filename == "black-21.11b0.tar.gz");
        Assert.True(yanked.IsYanked);
        Assert.Equal("Broken regex dependency. Use 21.11b1 instead.", yanked.YankedReason);
        Assert.Equal(">=3.6.2", yanked.RequiresPython);
        Assert.Equal(18838616, page.LastSerial);
        Assert.Empty(page.Versions);
    }

    [Fact]
    public void ReadProject_ProxpiPair_SameFilesAsJson()
    {
        var url = new Uri("http://localhost:5000/root/numpy/");
        var json = SimpleJsonReader.ReadProject(Fixture.Bytes("proxpi/tests/data/indexes/root/numpy/index.json"), url);
        var html = SimpleHtmlReader.ReadProject(Fixture.Text("proxpi/tests/data/indexes/root/numpy/index.html"), url, "numpy");

        Assert.Equal(json.Files.Select(f => (f.Filename, f.Url, f.Sha256, f.RequiresPython, f.IsYanked)),
            html.Files.Select(f => (f.Filename, f.Url, f.Sha256, f.RequiresPython, f.IsYanked)));
        // A bare data-core-metadata attribute is not a clear claim; only an explicit hash or "true" is.
        Assert.Null(html.Files[1].CoreMetadata);
        Assert.Equal("9e4a576848f4ea0051b63fe503b9357eb7200f9d979eb983a7139478450d2e6a", html.Files[2].CoreMetadata!["sha256"]);
    }

    [Fact]
    public void ReadProject_MixedYankedAndGpgForms()
    {
        var page = Read(Fixture.Text("pypi-simple/test/data/qypi_mixed.html"), "https://pypi.org/simple/qypi/");

        Assert.Equal([true, true, true, false, false], page.Files.Select(f => f.IsYanked));
        Assert.Equal("Metadata was smelly", page.Files[0].YankedReason);
        Assert.Null(page.Files[1].YankedReason);
        Assert.Null(page.Files[2].YankedReason);
        Assert.Equal([null, null, true, true, false], page.Files.Select(f => f.GpgSig));
        Assert.Equal(2875636, page.LastSerial);
    }

    [Fact]
    public void ReadProject_BaseHref_ResolvesRelativeLinks()
    {
        var page = Read(Fixture.Text("pypi-simple/test/data/qypi_base.html"), "https://test.nil/simple/qypi/");
        Assert.Equal("https://files.pythonhosted.org/packages/82/fc/9e25534641d7f63be93079bc07fa92bab136ddf5d4181059a1308a346f96/qypi-0.1.0-py3-none-any.whl", page.Files[0].Url);
    }

    [Fact]
    public void ReadProject_BaseAfterFirstAnchor_Ignored()
    {
        var page = Read("<a href=\"a-1.tar.gz\">x</a><base href=\"https://other/\"><a href=\"b-1.tar.gz\">y</a>");
        Assert.Equal(["https://pypi.org/simple/demo/a-1.tar.gz", "https://pypi.org/simple/demo/b-1.tar.gz"], page.Files.Select(f => f.Url));
    }

    [Fact]
    public void ReadProject_StatusMetasAndRepositoryVersion()
    {
        var page = Read(Fixture.Text("pypi-simple/test/data/qypi-708.html"), "https://pypi.org/simple/qypi/");
        Assert.Equal("1.2", page.ApiVersion);
        Assert.Equal(new ProjectStatus("deprecated", "Dev is tired of project"), page.Status);
        // The page has two unclosed anchors; both hrefs are complete tags and count.
        Assert.Equal(["qypi-0.1.0-py3-none-any.whl", "qypi-0.1.0.tar.gz"], page.Files.Select(f => f.Filename));
    }

    [Fact]
    public void ReadProject_RelativeDevpiLinks_ResolvedAgainstPageUrl()
    {
        var page = Read(Fixture.Text("pypi-simple/test/data/devpi_devpi.html"), "https://m.devpi.net/fschulze/dev/+simple/devpi"); // devpi serves this page without a trailing slash
        Assert.Equal("https://m.devpi.net/root/pypi/+f/159/5e5f095022ce7/devpi-2.2.0.tar.gz", page.Files[0].Url);
        Assert.Equal("https://m.devpi.net/fschulze/dev/+f/197/3b59b5a67362a/devpi-2.0.3.tar.gz", page.Files.Single(f => f.Filename == "devpi-2.0.3.tar.gz").Url);
    }

    [Fact]
    public void ReadProject_SingleQuotedEscapedRequiresPythonAndMd5Fragments()
    {
        var page = Read(Fixture.Text("pip/tests/data/indexes/datarequire/fakepackage/index.html"), "http://localhost/fakepackage/");
        Assert.Equal([null, "<2.7", ">=2.7,<3", ">=3.3", "><X.y.z"], page.Files.Select(f => f.RequiresPython));
        Assert.All(page.Files, f => Assert.Equal("00000000000000000000000000000000", f.Hashes["md5"]));
        Assert.Equal("http://localhost/fakepackage-1.0.0.tar.gz", page.Files[0].Url);
    }

    [Fact]
    public void ReadProject_EscapedRequiresPythonDecodedOnce()
    {
        var page = Read(Fixture.Text("pypi-simple/test/data/session01/in-place.html"), "https://pypi.org/simple/in-place/");
        Assert.Contains(page.Files, f => f.RequiresPython == ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, <4");
        Assert.Equal("1.0", page.ApiVersion);
        Assert.Equal("&lt;", Read("<a href=\"x-1.tar.gz\" data-requires-python=\"&amp;lt;\">x</a>").Files[0].RequiresPython);
    }

    [Fact]
    public void ReadProject_MultiLineAnchorsAndMalformedRequiresPython()
    {
        var demo = Read(Fixture.Text("pdm/tests/fixtures/index/demo.html"));
        Assert.Equal(["demo-0.0.1-cp36-cp36m-win_amd64.whl", "demo-0.0.1-py2.py3-none-any.whl"], demo.Files.Select(f => f.Filename));
        var wheel = Read(Fixture.Text("pdm/tests/fixtures/index/wheel.html"));
        Assert.Equal(">=3.1.*'", Assert.Single(wheel.Files).RequiresPython);
    }

    [Fact]
    public void ReadProject_RelativeYankedLinks()
    {
        var page = Read(Fixture.Text("pip/tests/data/indexes/yanked/simple/index.html"), "http://localhost/yanked/simple/simple/");
        Assert.Equal([false, false, true], page.Files.Select(f => f.IsYanked));
        Assert.Equal("test reason message", page.Files[2].YankedReason);
        Assert.Equal("http://localhost/packages/simple-3.0.tar.gz", page.Files[2].Url);
    }

    [Fact]
    public void ReadProject_AttributesAnyOrderCaseAndQuoting()
    {
        var html = "<A\n DATA-YANKED='bad &amp; old'\n data-size=12 data-upload-time=\"2024-01-01T00:00:00Z\"\n"
            + " data-core-metadata=sha256=ABCDABCDABCDABCDABCDABCDABCDABCDABCDABCDABCDABCDABCDABCDABCDABCD data-provenance=\"https://p/x\" HREF=x-1.tar.gz#SHA256=ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD>x</A>";
        var file = Assert.Single(Read(html).Files);
        Assert.Equal("bad & old", file.YankedReason);
        Assert.Equal(12, file.Size);
        Assert.Equal("2024-01-01T00:00:00Z", file.UploadTime);
        Assert.Equal("abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd", file.CoreMetadata!["sha256"]);
        Assert.Equal("abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd", file.Sha256);
        Assert.Equal("https://p/x", file.Provenance);
    }

    [Theory]
    [InlineData("<a href=\"\">x</a>")]
    [InlineData("<a>x</a>")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("<a href=\"mailto:a@b\">x</a>")]
    [InlineData("<a href=\"https://example.com/\">home</a>")]
    [InlineData("<!-- <a href=\"x-1.tar.gz\"> --><script>var s='<a href=\"y-1.tar.gz\">';</script>")]
    [InlineData("not html at all")]
    [InlineData("")]
    public void ReadProject_NonFileAnchors_Ignored(string html)
    {
        Assert.Empty(Read(html).Files);
    }

    [Theory]
    [InlineData("<a href=\"https://f/..%2Fevil.tar.gz\">x</a>")]
    [InlineData("<a href=\"https://f/a%5Cb.tar.gz\">x</a>")]
    [InlineData("<a href=\"https://f/a%00b.tar.gz\">x</a>")]
    [InlineData("<a href=\"https://f/.hidden\">x</a>")]
    [InlineData("<a href=\"https://f/a%3Ab.tar.gz\">x</a>")]
    public void ReadProject_UnsafeFilename_RejectsPage(string html)
    {
        var ex = Assert.Throws<SimplePageFormatException>(() => Read(html));
        Assert.Contains("unsafe filename", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', ex.Message);
    }

    [Fact]
    public void ReadProject_RepositoryVersionMajor2_Rejected()
    {
        var ex = Assert.Throws<SimplePageFormatException>(() => Read("<meta name=\"pypi:repository-version\" content=\"2.0\"><a href=\"x-1.tar.gz\">x</a>"));
        Assert.Equal("repository-version 2.0 is not supported", ex.Message);
    }

    [Fact]
    public void ReadProject_TruncatedDocument_KeepsCompleteAnchors()
    {
        var full = Fixture.Text(Micropip + "snowballstemmer_simple.html");
        var cut = full.IndexOf("snowballstemmer-1.2.1.tar.gz", StringComparison.Ordinal);
        Assert.True(cut > 0);
        var page = Read(full[..(cut - 30)], "https://pypi.org/simple/snowballstemmer/");
        var all = Read(full, "https://pypi.org/simple/snowballstemmer/");
        Assert.True(page.Files.Count > 0 && page.Files.Count < all.Files.Count);
        Assert.Equal(all.Files.Take(page.Files.Count).Select(f => f.Url), page.Files.Select(f => f.Url));
        Assert.Null(page.LastSerial);
    }

    [Fact]
    public void ReadProject_PathologicalInput_YieldsNoFiles()
    {
        // 3.8 MB of unterminated tags, comments and quotes: a backtracking reader would never finish this
        // (the suite's time limit catches that); speed itself belongs in benchmarks, not in a timed assertion.
        var hostile = string.Concat(Enumerable.Repeat("<a href=x <!-- <a '", 200_000));
        Assert.Empty(Read(hostile).Files);
    }

    [Fact]
    public async Task ReadProjectAsync_OverLimit_Rejected()
    {
        var bytes = Encoding.UTF8.GetBytes(Fixture.Text(Micropip + "black_simple.html"));
        var ex = await Assert.ThrowsAsync<SimplePageFormatException>(() =>
            SimpleHtmlReader.ReadProjectAsync(new MemoryStream(bytes), new Uri("https://pypi.org/simple/black/"), "black", 1000));
        Assert.Equal("upstream page exceeds 1000 bytes", ex.Message);
    }
}
