using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 10: a digest of the wrong length (or not hex) in an upstream page is refused when the page is parsed:
/// the file is left out of the page (fail closed), the rest of the page is served, and asking for the file is a 404.
/// </summary>
public sealed class UpstreamDigestTests
{
    private const string Good = "evil-1.2.tar.gz";
    private static readonly string GoodSha256 = new('a', 64);

    [Theory]
    [InlineData("json")]
    [InlineData("html")]
    public async Task PageWithBadDigests_ServesTheOtherFiles_AndTheBadOnesAre404(string format)
    {
        await using var upstream = await FakePyPI.StartAsync();
        var files = new (string Filename, string Sha256)[]
        {
            ("evil-1.0.tar.gz", "abc"),
            ("evil-1.1.tar.gz", new string('z', 64)),
            ("evil-1.3.tar.gz", new string('b', 65)),
            (Good, GoodSha256),
        };
        upstream.Override["/simple/evil/"] = async context =>
        {
            if (format == "json")
            {
                context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
                var array = new JsonArray();
                foreach (var (filename, sha256) in files)
                {
                    array.Add(new JsonObject { ["filename"] = filename, ["url"] = upstream.FileUrl(filename), ["hashes"] = new JsonObject { ["sha256"] = sha256 } });
                }

                await context.Response.WriteAsync(new JsonObject { ["meta"] = new JsonObject { ["api-version"] = "1.1" }, ["name"] = "evil", ["files"] = array }.ToJsonString());
            }
            else
            {
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<!DOCTYPE html><html><body>\n"
                    + string.Concat(files.Select(f => $"<a href=\"{upstream.FileUrl(f.Filename)}#sha256={f.Sha256}\">{f.Filename}</a><br/>\n"))
                    + "</body></html>\n");
            }
        };
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);

        using var page = await proxy.Client.GetAsync("dev/simple/evil/");
        var body = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains($"{Good}#sha256={GoodSha256}", body, StringComparison.Ordinal);
        foreach (var (filename, _) in files.Where(f => f.Filename != Good))
        {
            Assert.DoesNotContain(filename, body, StringComparison.Ordinal);
            using var download = await proxy.Client.GetAsync($"dev/files/evil/{filename}");
            Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await proxy.Client.GetAsync("dev/simple/evil/")).StatusCode);
    }
}
