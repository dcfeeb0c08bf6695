using System.Text;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Protocol.Tests.SimpleApi;

public class SimpleJsonReaderTests
{
    private const string Micropip = "micropip/tests/test_data/pypi_response/";
    private const string PoetryJson = "poetry/tests/repositories/fixtures/pypi.org/json/";
    private static readonly Uri PyPI = new("https://pypi.org/simple/black/");

    private static ProjectPage Read(string json, string url = "https://pypi.org/simple/demo/") =>
        SimpleJsonReader.ReadProject(Encoding.UTF8.GetBytes(json), new Uri(url));

    private static string Page(string filesJson, string meta = "{\"api-version\":\"1.1\"}", string extra = "") =>
        $"{{\"meta\":{meta},\"name\":\"demo\",\"files\":[{filesJson}]{extra}}}";

    private static string File(string fields = "", string filename = "demo-1.0.tar.gz", string url = "https://files.example/demo-1.0.tar.gz") =>
        $"{{\"filename\":\"{filename}\",\"url\":\"{url}\",\"hashes\":{{\"sha256\":\"abababababababababababababababababababababababababababababababab\"}}{fields}}}";

    [Fact]
    public void ReadProject_RealBlackCapture_ReadsYankedReasonAndMeta()
    {
        var page = SimpleJsonReader.ReadProject(Fixture.Bytes(Micropip + "black_simple.json"), PyPI);

        Assert.Equal("black", page.Name);
        Assert.Equal("1.1", page.ApiVersion);
        Assert.Equal(18838616, page.LastSerial);
        Assert.Equal(279, page.Files.Count);
        var yanked = page.Files.Where(f => f.IsYanked).ToList();
        Assert.Equal(["black-21.11b0-py3-none-any.whl", "black-21.11b0.tar.gz"], yanked.Select(f => f.Filename));
        Assert.All(yanked, f => Assert.Equal("Broken regex dependency. Use 21.11b1 instead.", f.YankedReason));
        var first = page.Files[0];
        Assert.Equal("black-18.3a0-py3-none-any.whl", first.Filename);
        Assert.Equal("7183263650ba3071034e90b40a1ea74abccbd32cf525cef6d7914479dbe7f2fb", first.Sha256);
        Assert.Equal(">=3.6", first.RequiresPython);
        Assert.Equal(56103, first.Size);
        Assert.Equal("2018-03-14T21:30:34.781336Z", first.UploadTime);
        Assert.Null(first.CoreMetadata);
        Assert.Contains("23.7.0", page.Versions);
    }

    [Fact]
    public void ReadProject_PoetryApi14Capture_ReadsCoreMetadataProvenanceAndStatus()
    {
        var page = SimpleJsonReader.ReadProject(Fixture.Bytes(PoetryJson + "poetry-core.json"), new Uri("https://pypi.org/simple/poetry-core/"));

        Assert.Equal("1.4", page.ApiVersion);
        Assert.Equal(new ProjectStatus("active", null), page.Status);
        var wheel = page.Files.Single(f => f.Filename == "poetry_core-2.1.3-py3-none-any.whl");
        Assert.Equal("https://pypi.org/integrity/poetry-core/2.1.3/poetry_core-2.1.3-py3-none-any.whl/provenance", wheel.Provenance);
        var old = page.Files.Single(f => f.Filename == "poetry_core-1.5.0-py3-none-any.whl");
        Assert.Equal("7901e9c07999287d28be06df377c9e8529ec602c583dc7e2f22c1211d5f747e3", old.CoreMetadata!["sha256"]);
        Assert.Equal("be7589b4902793e66d7d979bd8581591", old.Hashes["md5"]);
        Assert.Null(old.Provenance);
    }

    [Fact]
    public void ReadProject_Pep708Capture_ReadsStatusWithReasonAndIgnoresTracks()
    {
        var page = SimpleJsonReader.ReadProject(Fixture.Bytes("pypi-simple/test/data/argset-708.json"), new Uri("https://pypi.org/simple/argset/"));

        Assert.Equal(new ProjectStatus("deprecated", "Dev is tired of project"), page.Status);
        Assert.Equal("1.2", page.ApiVersion);
        Assert.Equal(10562871, page.LastSerial);
        Assert.Equal(["0.1.0"], page.Versions);
        Assert.Equal(5219, page.Files[0].Size);
    }

    [Fact]
    public void ReadProject_RelativeUrls_ResolvedAgainstPageUrl()
    {
        var page = SimpleJsonReader.ReadProject(Fixture.Bytes("pypi-simple/test/data/argset-relative.json"), new Uri("https://test.nil/simple/argset/"));

        Assert.All(page.Files, f => Assert.StartsWith("https://test.nil/simple/argset/packages/", f.Url, StringComparison.Ordinal));
        Assert.All(page.Files, f => Assert.EndsWith("/" + f.Filename, f.Url, StringComparison.Ordinal));
    }

    [Fact]
    public void ReadProject_YankedForms_TrueAndReasonAndEmptyRequiresPython()
    {
        var page = SimpleJsonReader.ReadProject(Fixture.Bytes("pypi-simple/test/data/yanked.json"), new Uri("https://pypi.org/simple/yanked/"));

        Assert.True(page.Files[0].IsYanked);
        Assert.Null(page.Files[0].YankedReason);
        Assert.True(page.Files[1].IsYanked);
        Assert.Equal("not good", page.Files[1].YankedReason);
        Assert.All(page.Files, f => Assert.Null(f.RequiresPython));
    }

    [Fact]
    public void ReadProject_ProxpiCoreMetadataTrue_IsEmptyHashSet()
    {
        var page = SimpleJsonReader.ReadProject(Fixture.Bytes("proxpi/tests/data/indexes/root/numpy/index.json"), new Uri("http://localhost:5000/root/numpy/"));

        Assert.Null(page.Files[0].CoreMetadata);
        Assert.Empty(page.Files[1].CoreMetadata!);
        Assert.Equal("9e4a576848f4ea0051b63fe503b9357eb7200f9d979eb983a7139478450d2e6a", page.Files[2].CoreMetadata!["sha256"]);
        Assert.True(page.Files[3].IsYanked);
        Assert.Equal("http://localhost:5000/root/numpy/numpy-1.23.1.tar.gz", page.Files[4].Url);
    }

    [Theory]
    [InlineData(",\"dist-info-metadata\":{\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\"data-dist-info-metadata\":{\"sha256\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData(",\"data-dist-info-metadata\":{\"sha256\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData(",\"core-metadata\":{\"SHA256\":\"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\"},\"dist-info-metadata\":{\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc")]
    public void ReadProject_MetadataKeyAliases_PreferCoreMetadata(string fields, string expected)
    {
        var page = Read(Page(File(fields)));
        Assert.Equal(expected, page.Files[0].CoreMetadata!["sha256"]);
    }

    [Fact]
    public void ReadProject_ProjectStatusInMeta_Accepted()
    {
        var page = Read(Page(File(), "{\"api-version\":\"1.4\",\"project-status\":{\"status\":\"archived\"}}"));
        Assert.Equal(new ProjectStatus("archived", null), page.Status);
    }

    [Fact]
    public void ReadProject_NonHttpProvenance_DroppedToNull()
    {
        var page = Read(Page(File(",\"provenance\":\"javascript:alert(1)\"") + "," + File(",\"provenance\":\"https://pypi.org/p\"", "demo-1.0-py3-none-any.whl", "https://f/demo-1.0-py3-none-any.whl")));
        Assert.Null(page.Files[0].Provenance);
        Assert.Equal("https://pypi.org/p", page.Files[1].Provenance);
    }

    [Fact]
    public void ReadProject_PercentEncodedUrlSegment_MatchesDecodedFilename()
    {
        var page = Read(Page(File(filename: "torch-2.3.0+cpu-cp310-none-any.whl", url: "https://f/a/torch-2.3.0%2Bcpu-cp310-none-any.whl?x=1#frag")));
        Assert.Equal("https://f/a/torch-2.3.0%2Bcpu-cp310-none-any.whl?x=1", page.Files[0].Url);
    }

    [Theory]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"demo\",\"files\":[", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{\"name\":\"demo\",\"files\":[]}", "'meta'")]
    [InlineData("{\"meta\":{},\"name\":\"demo\",\"files\":[]}", "api-version")]
    [InlineData("{\"meta\":{\"api-version\":\"2.0\"},\"name\":\"demo\",\"files\":[]}", "api-version 2.0 is not supported")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"files\":[]}", "'name'")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"demo\"}", "'files'")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"demo\",\"files\":{}}", "'files'")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"demo\",\"files\":[{\"url\":\"https://f/x.whl\",\"hashes\":{}}]}", "file 0 has no filename")]
    [InlineData("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"demo\",\"name\":\"other\",\"files\":[]}", "not valid JSON")]
    public void ReadProject_MalformedDocument_Rejected(string json, string messagePart)
    {
        var ex = Assert.Throws<SimplePageFormatException>(() => Read(json));
        Assert.Contains(messagePart, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("", "demo-1.0.tar.gz", "ftp://f/demo-1.0.tar.gz", "not http(s)")]
    [InlineData("", "demo-1.0.tar.gz", "javascript:alert(1)", "not http(s)")]
    [InlineData("", "../evil.tar.gz", "https://f/../evil.tar.gz", "unsafe filename")]
    [InlineData("", "..", "https://f/..", "unsafe filename")]
    [InlineData("", "a\\\\b.tar.gz", "https://f/a%5Cb.tar.gz", "unsafe filename")]
    [InlineData("", "a\\u0001.tar.gz", "https://f/a%01.tar.gz", "unsafe filename")]
    [InlineData("", "demo-1.0.tar.gz", "https://f/other-1.0.tar.gz", "does not match")]
    [InlineData("", "demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz/", "does not match")]
    [InlineData(",\"yanked\":1", "demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz", "yanked")]
    [InlineData(",\"size\":\"12\"", "demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz", "size")]
    [InlineData(",\"size\":-1", "demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz", "size")]
    [InlineData(",\"requires-python\":3", "demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz", "requires-python")]
    [InlineData(",\"core-metadata\":\"yes\"", "demo-1.0.tar.gz", "https://f/demo-1.0.tar.gz", "core-metadata")]
    public void ReadProject_BadFile_Rejected(string fields, string filename, string url, string messagePart)
    {
        var ex = Assert.Throws<SimplePageFormatException>(() => Read(Page(File(fields, filename, url))));
        Assert.Contains(messagePart, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadProject_NonHexDigest_DropsTheFile()
    {
        // Issue 9: a digest that cannot be right leaves its file out (fail closed) instead of refusing the whole page.
        var json = Page("{\"filename\":\"demo-1.0.tar.gz\",\"url\":\"https://f/demo-1.0.tar.gz\",\"hashes\":{\"sha256\":\"zz\"}}");
        var page = Read(json);
        Assert.Empty(page.Files);
        Assert.Contains("not hex", Assert.Single(page.DroppedFiles), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadProject_InvalidJsonFixtureWithTrailingComma_Rejected()
    {
        Assert.Throws<SimplePageFormatException>(() =>
            SimpleJsonReader.ReadProject(Fixture.Bytes(Micropip + "fake-pkg-micropip-test_simple.json"), PyPI));
    }

    [Fact]
    public void ReadProject_Truncated_RejectedWithBytePosition()
    {
        var bytes = Fixture.Bytes(Micropip + "snowballstemmer_simple.json");
        var ex = Assert.Throws<SimplePageFormatException>(() => SimpleJsonReader.ReadProject(bytes.AsSpan(0, bytes.Length / 2), PyPI));
        Assert.Matches("not valid JSON at (line \\d+, )?byte \\d+", ex.Message);
    }

    [Fact]
    public async Task ReadProjectAsync_OverLimit_Rejected()
    {
        var bytes = Fixture.Bytes(Micropip + "black_simple.json");
        var ex = await Assert.ThrowsAsync<SimplePageFormatException>(() =>
            SimpleJsonReader.ReadProjectAsync(new MemoryStream(bytes), PyPI, bytes.Length - 1));
        Assert.Equal($"upstream page exceeds {bytes.Length - 1} bytes", ex.Message);

        var page = await SimpleJsonReader.ReadProjectAsync(new MemoryStream(bytes), PyPI, bytes.Length);
        Assert.Equal(279, page.Files.Count);
    }
}
