using System.Buffers;
using System.Text;
using System.Text.Json;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Protocol.Tests.SimpleApi;

public class SimpleWriterTests
{
    private static readonly Uri ProxyPage = new("https://proxy.test/simple/demo/");

    private static string ProxyUrl(DistributionFile f) => "https://proxy.test/files/" + f.Filename;

    private static string Json(ProjectPage page, Func<DistributionFile, string?>? provenance = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SimpleJsonWriter.WriteProject(buffer, page, ProxyUrl, provenance ?? (f => f.Provenance));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Html(ProjectPage page, Func<DistributionFile, string?>? provenance = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SimpleHtmlWriter.WriteProject(buffer, page, ProxyUrl, provenance ?? (f => f.Provenance));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static ProjectPage RichPage() => new()
    {
        Name = "demo",
        LastSerial = 42,
        Versions = ["1.0", "2.0"],
        Status = new ProjectStatus(ProjectStatus.Deprecated, "use other & <better>"),
        Files =
        [
            new DistributionFile
            {
                Filename = "demo-1.0.tar.gz",
                Url = "https://files.example/demo-1.0.tar.gz",
                Hashes = new Dictionary<string, string> { ["sha256"] = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11", ["md5"] = "bb22bb22bb22bb22bb22bb22bb22bb22" },
                RequiresPython = ">=3.8,<4",
                CoreMetadata = new Dictionary<string, string> { ["sha256"] = "cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33cc33" },
                GpgSig = false,
                IsYanked = true,
                YankedReason = "broken \"quote\" 'x'",
                Size = 1234,
                UploadTime = "2024-01-02T03:04:05.678901Z",
                Provenance = "https://pypi.org/integrity/demo/1.0/demo-1.0.tar.gz/provenance",
            },
            new DistributionFile
            {
                Filename = "demo-2.0-py3-none-any.whl",
                Url = "https://files.example/demo-2.0-py3-none-any.whl",
                Hashes = new Dictionary<string, string> { ["sha256"] = "dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44dd44" },
                CoreMetadata = new Dictionary<string, string>(),
                IsYanked = true,
                Size = 99,
            },
            new DistributionFile
            {
                Filename = "demo-2.0.tar.gz",
                Url = "https://files.example/demo-2.0.tar.gz",
                Size = 0,
            },
        ],
    };

    private static void AssertSameFiles(ProjectPage expected, ProjectPage actual, bool compareVersions)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.LastSerial, actual.LastSerial);
        Assert.Equal(expected.Status, actual.Status);
        if (compareVersions)
        {
            Assert.Equal(expected.Versions, actual.Versions);
        }

        Assert.Equal(expected.Files.Count, actual.Files.Count);
        for (var i = 0; i < expected.Files.Count; i++)
        {
            var (e, a) = (expected.Files[i], actual.Files[i]);
            Assert.Equal(e.Filename, a.Filename);
            Assert.Equal(ProxyUrl(e), a.Url);
            Assert.Equal(e.Hashes.Where(h => h.Key == "sha256" || compareVersions).OrderBy(h => h.Key), a.Hashes.OrderBy(h => h.Key));
            Assert.Equal(e.RequiresPython, a.RequiresPython);
            Assert.Equal(e.CoreMetadata?.OrderBy(h => h.Key), a.CoreMetadata?.OrderBy(h => h.Key));
            Assert.Equal(e.GpgSig, a.GpgSig);
            Assert.Equal(e.IsYanked, a.IsYanked);
            Assert.Equal(e.YankedReason, a.YankedReason);
            Assert.Equal(e.Size, a.Size);
            Assert.Equal(e.UploadTime, a.UploadTime);
            Assert.Equal(e.Provenance, a.Provenance);
        }
    }

    [Fact]
    public void WriteProject_JsonRoundTrip_PreservesEveryField()
    {
        var page = RichPage();
        var read = SimpleJsonReader.ReadProject(Encoding.UTF8.GetBytes(Json(page)), ProxyPage);
        AssertSameFiles(page, read, compareVersions: true);
        Assert.Equal("1.4", read.ApiVersion);
    }

    [Fact]
    public void WriteProject_HtmlRoundTrip_PreservesEveryFieldHtmlCanCarry()
    {
        // HTML carries only the sha256 fragment and no versions.
        var page = RichPage();
        var read = SimpleHtmlReader.ReadProject(Html(page), ProxyPage, "demo");
        AssertSameFiles(page, read, compareVersions: false);
        Assert.Equal("1.4", read.ApiVersion);
    }

    [Fact]
    public void WriteProject_RealCaptureThroughBothFormats_SameFiles()
    {
        var original = SimpleJsonReader.ReadProject(Fixture.Bytes("poetry/tests/repositories/fixtures/pypi.org/json/black.json"), new Uri("https://pypi.org/simple/black/"));
        var viaJson = SimpleJsonReader.ReadProject(Encoding.UTF8.GetBytes(Json(original)), ProxyPage);
        var viaHtml = SimpleHtmlReader.ReadProject(Html(original), ProxyPage, "black");
        AssertSameFiles(original, viaJson, compareVersions: true);
        AssertSameFiles(original with { Files = [.. original.Files.Select(f => f with { Hashes = f.Hashes.Where(h => h.Key == "sha256").ToDictionary() })] }, viaHtml, compareVersions: false);
    }

    [Fact]
    public void WriteProject_Json_HasPyPIShape()
    {
        using var doc = JsonDocument.Parse(Json(RichPage()));
        var root = doc.RootElement;
        Assert.Equal(["meta", "name", "versions", "files", "project-status"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("1.4", root.GetProperty("meta").GetProperty("api-version").GetString());
        Assert.Equal(42, root.GetProperty("meta").GetProperty("_last-serial").GetInt64());
        var f0 = root.GetProperty("files")[0];
        Assert.Equal(["filename", "url", "hashes", "requires-python", "size", "upload-time", "yanked", "core-metadata", "data-dist-info-metadata", "gpg-sig", "provenance"], f0.EnumerateObject().Select(p => p.Name));
        var f1 = root.GetProperty("files")[1];
        Assert.Equal(JsonValueKind.Null, f1.GetProperty("requires-python").ValueKind);
        Assert.Equal(JsonValueKind.Null, f1.GetProperty("provenance").ValueKind);
        Assert.Equal(JsonValueKind.True, f1.GetProperty("yanked").ValueKind);
        Assert.Equal(JsonValueKind.True, f1.GetProperty("core-metadata").ValueKind);
        var f2 = root.GetProperty("files")[2];
        Assert.Equal(JsonValueKind.False, f2.GetProperty("core-metadata").ValueKind);
        Assert.Equal(JsonValueKind.False, f2.GetProperty("data-dist-info-metadata").ValueKind);
        Assert.False(f2.TryGetProperty("upload-time", out _));
        Assert.DoesNotContain("\"dist-info-metadata\"", Json(RichPage()), StringComparison.Ordinal);
        Assert.Contains("\">=3.8,<4\"", Json(RichPage()), StringComparison.Ordinal); // relaxed escaping
    }

    [Fact]
    public void WriteProject_FileWithoutSize_DeclaresApi10AndOmitsActiveStatus()
    {
        var page = RichPage() with { Status = null };
        page = page with { Files = [.. page.Files.Select((f, i) => i == 2 ? f with { Size = null } : f)] };

        using var doc = JsonDocument.Parse(Json(page));
        Assert.Equal("1.0", doc.RootElement.GetProperty("meta").GetProperty("api-version").GetString());
        Assert.False(doc.RootElement.TryGetProperty("project-status", out _));
        Assert.False(doc.RootElement.GetProperty("files")[2].TryGetProperty("size", out _));
        var html = Html(page);
        Assert.Contains("content=\"1.0\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("pypi:project-status", html, StringComparison.Ordinal);

        var quarantined = page with { Status = new ProjectStatus(ProjectStatus.Quarantined, null) };
        using var doc2 = JsonDocument.Parse(Json(quarantined));
        Assert.Equal("quarantined", doc2.RootElement.GetProperty("project-status").GetProperty("status").GetString());
    }

    [Fact]
    public void WriteProject_AllSizesKnownNoStatus_EmitsActive()
    {
        var page = RichPage() with { Status = null };
        using var doc = JsonDocument.Parse(Json(page));
        Assert.Equal("active", doc.RootElement.GetProperty("project-status").GetProperty("status").GetString());
        Assert.False(doc.RootElement.GetProperty("project-status").TryGetProperty("reason", out _));
        Assert.Contains("<meta name=\"pypi:project-status\" content=\"active\">", Html(page), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteProject_Html_MatchesPyPITemplate()
    {
        var page = new ProjectPage
        {
            Name = "demo",
            LastSerial = 7,
            Files =
            [
                new DistributionFile
                {
                    Filename = "demo-1.0-py3-none-any.whl",
                    Url = "https://files.example/demo-1.0-py3-none-any.whl",
                    Hashes = new Dictionary<string, string> { ["sha256"] = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12", ["sha1"] = "ffffffffffffffffffffffffffffffffffffffff" },
                    RequiresPython = ">=3.6",
                    CoreMetadata = new Dictionary<string, string> { ["sha256"] = "cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34" },
                    Size = 10,
                },
            ],
        };
        var expected = "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.4\">\n"
            + "    <meta name=\"pypi:project-status\" content=\"active\">\n    <title>Links for demo</title>\n  </head>\n  <body>\n"
            + "    <h1>Links for demo</h1>\n"
            + "    <a href=\"https://proxy.test/files/demo-1.0-py3-none-any.whl#sha256=ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12\" data-requires-python=\"&gt;=3.6\" "
            + "data-dist-info-metadata=\"sha256=cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34\" data-core-metadata=\"sha256=cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34\" data-size=\"10\">demo-1.0-py3-none-any.whl</a><br />\n"
            + "  </body>\n</html>\n<!--SERIAL 7-->";
        Assert.Equal(expected, Html(page));
    }

    [Fact]
    public void WriteProject_HostilePage_OutputIsInert()
    {
        const string hostileUpstream = """
            {"meta":{"api-version":"1.1"},"name":"demo","files":[{"filename":"demo-1.0.tar.gz","url":"https://f/demo-1.0.tar.gz",
             "hashes":{"sha256":"abababababababababababababababababababababababababababababababab"},"requires-python":"\"><script>alert(1)</script>","yanked":"<img src=x onerror=alert(1)> & '",
             "provenance":"javascript:alert(1)","upload-time":"'><b>","size":1}],
             "project-status":{"status":"archived","reason":"</title><script>x</script>"}}
            """;
        var page = SimpleJsonReader.ReadProject(Encoding.UTF8.GetBytes(hostileUpstream), new Uri("https://pypi.org/simple/demo/"));
        Assert.Null(page.Files[0].Provenance);

        var html = Html(page);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("data-provenance", html, StringComparison.Ordinal);
        Assert.Contains("data-requires-python=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"", html, StringComparison.Ordinal);
        // Exactly one anchor, and reading our own output gives back the original strings.
        var reread = SimpleHtmlReader.ReadProject(html, ProxyPage, "demo");
        Assert.Equal(page.Files[0].RequiresPython, Assert.Single(reread.Files).RequiresPython);
        Assert.Equal("<img src=x onerror=alert(1)> & '", reread.Files[0].YankedReason);
        Assert.Equal("</title><script>x</script>", reread.Status!.Reason);

        var json = Json(page);
        Assert.DoesNotContain("javascript:", json, StringComparison.Ordinal);
        var rejson = SimpleJsonReader.ReadProject(Encoding.UTF8.GetBytes(json), ProxyPage);
        Assert.Equal(page.Files[0].RequiresPython, rejson.Files[0].RequiresPython);
    }

    [Fact]
    public void WriteProject_ProvenanceCallback_ControlsOutput()
    {
        var page = RichPage();
        Assert.DoesNotContain("data-provenance", Html(page, _ => null), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(Json(page, _ => "https://proxy.test/prov"));
        Assert.Equal("https://proxy.test/prov", doc.RootElement.GetProperty("files")[0].GetProperty("provenance").GetString());
    }
}
