using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Policies;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hostile;

/// <summary>
/// A real proxy in front of a real (fake-PyPI) upstream that serves hostile pages, shared by every corpus case:
/// the process must keep serving after each one.
/// </summary>
public sealed class HostileFixture : IAsyncLifetime
{
    public FakePyPI Upstream { get; private set; } = null!;

    public ProxyInstance Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        foreach (var (id, page) in HostileUpstream.Pages)
        {
            Upstream.Override[$"/simple/{HostileUpstream.ProjectOf(id)}/"] = async context =>
            {
                context.Response.ContentType = page.ContentType;
                await context.Response.Body.WriteAsync(page.Body);
            };
        }

        foreach (var (id, body) in HostileUpstream.JsonApiDocuments)
        {
            Upstream.Override[$"/pypi/{HostileUpstream.ProjectOf(id)}/json"] = async context =>
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(body);
            };
        }

        Proxy = await ProxyInstance.StartAsync(
            Upstream.BaseUrl,
            settings: ApiTestKit.Settings(new Dictionary<string, string> { ["Upstream:MaxPageBytes"] = "262144", ["Auth:SignInAttemptsPerMinute"] = "1000" }),
            policyYaml: "environments:\n  secure: { tier: 2, access: token }\n");
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// Issue 9 §6: every hostile input gets a clear 4xx (or 502 for upstream trouble) with a one-line reason, the process
/// keeps serving, and nothing refused is stored.
/// </summary>
public sealed class HostileInputTests(HostileFixture fixture) : IClassFixture<HostileFixture>
{
    private static readonly IReadOnlyDictionary<string, HostileRequest> ByRequestId =
        HostileCorpus.Requests().ToDictionary(r => r.Id, r => r.Request, StringComparer.Ordinal);

    public static TheoryData<string> RequestIds() => [.. ByRequestId.Keys];

    public static TheoryData<string> UpstreamIds() => [.. HostileUpstream.Pages.Keys, .. HostileUpstream.JsonApiDocuments.Keys];

    public static TheoryData<string> PolicyIds() => [.. HostilePolicies.Files.Keys];

    [Fact]
    public void Corpus_HasAtLeast200Inputs() =>
        Assert.True(ByRequestId.Count + HostileUpstream.Pages.Count + HostileUpstream.JsonApiDocuments.Count + HostilePolicies.Files.Count >= 200);

    [Theory]
    [MemberData(nameof(RequestIds))]
    public async Task HostileRequest_IsRefusedWithAOneLineReason_AndTheProcessKeepsServing(string id)
    {
        var hostile = ByRequestId[id];

        var response = await RawHttpRequest.SendAsync(fixture.Proxy.BaseUrl, hostile.Method, hostile.Target, hostile.Headers, hostile.Body);

        Assert.True(hostile.Statuses.Contains(response.Status), $"{id}: expected {string.Join(" or ", hostile.Statuses)}, got {response.Status}: {response.Body}");
        if (hostile.Reason is not null)
        {
            var reason = Reason(response);
            Assert.False(string.IsNullOrWhiteSpace(reason), $"{id}: the {response.Status} carries no reason");
            Assert.DoesNotContain('\n', reason.TrimEnd('\n'));
            Assert.Contains(hostile.Reason, reason, StringComparison.OrdinalIgnoreCase);
        }

        await AssertStillServingAsync();
    }

    [Theory]
    [MemberData(nameof(UpstreamIds))]
    public async Task HostileUpstreamDocument_IsRefusedOrDefused_AndNothingRefusedIsStored(string id)
    {
        var project = HostileUpstream.ProjectOf(id);
        var path = HostileUpstream.Pages.ContainsKey(id) ? $"/dev/simple/{project}/" : $"/dev/pypi/{project}/json";
        var expectation = HostileUpstream.Pages.TryGetValue(id, out var page) ? page.Expect : HostileUpstream.Expectation.Refused;

        var response = await RawHttpRequest.SendAsync(fixture.Proxy.BaseUrl, "GET", path);

        if (expectation == HostileUpstream.Expectation.Refused || response.Status == StatusCodes.Status502BadGateway)
        {
            Assert.True(response.Status == StatusCodes.Status502BadGateway, $"{id}: expected 502, got {response.Status}: {response.Body}");
            var reason = Reason(response);
            Assert.False(string.IsNullOrWhiteSpace(reason), $"{id}: the 502 carries no reason");
            Assert.DoesNotContain('\n', reason.TrimEnd('\n'));
            await using var scope = fixture.Proxy.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            Assert.False(await db.CachedPages.AnyAsync(p => p.Key == project), $"{id}: a refused upstream page was stored");
        }
        else
        {
            Assert.True(response.Status == StatusCodes.Status200OK, $"{id}: expected 200 or 502, got {response.Status}: {response.Body}");
            foreach (var marker in HostileUpstream.Markers)
            {
                Assert.DoesNotContain(marker, response.Body, StringComparison.OrdinalIgnoreCase);
            }
        }

        await AssertStillServingAsync();
    }

    [Theory]
    [MemberData(nameof(PolicyIds))]
    public void HostilePolicyFile_StopsWithTheFileLineAndProblem(string id)
    {
        var exception = Assert.Throws<PolicyFileException>(() => PolicyLoader.Parse(("hostile.yaml", HostilePolicies.Files[id])));

        Assert.Equal("hostile.yaml", exception.File);
        Assert.DoesNotContain('\n', exception.Message);
        Assert.False(string.IsNullOrWhiteSpace(exception.Problem));
    }

    [Fact]
    public async Task AfterTheCorpus_NoPartialArtifactIsLeftInTheStore()
    {
        foreach (var id in ByRequestId.Keys.Where(k => k.StartsWith("path/", StringComparison.Ordinal) || k.StartsWith("name/files/", StringComparison.Ordinal)))
        {
            var hostile = ByRequestId[id];
            await RawHttpRequest.SendAsync(fixture.Proxy.BaseUrl, hostile.Method, hostile.Target, hostile.Headers, hostile.Body);
        }

        var store = Path.Combine(fixture.Proxy.Root, "data", "artifacts");
        var files = Directory.Exists(store) ? Directory.GetFiles(store, "*", SearchOption.AllDirectories) : [];
        Assert.Empty(files);
        await AssertStillServingAsync();
    }

    private async Task AssertStillServingAsync()
    {
        var health = await RawHttpRequest.SendAsync(fixture.Proxy.BaseUrl, "GET", "/healthz");
        Assert.Equal(StatusCodes.Status200OK, health.Status);
    }

    // A plain-text reason, or the message of a JSON error body.
    private static string Reason(RawResponse response)
    {
        var body = response.Body;
        if (response.Headers.TryGetValue("content-type", out var type) && type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            var node = JsonNode.Parse(body);
            return node?["message"]?.GetValue<string>() ?? node?["title"]?.GetValue<string>() ?? "";
        }

        return body;
    }
}

/// <summary>Hostile pages and JSON API documents an upstream can serve; each is served under its own project name.</summary>
public static class HostileUpstream
{
    public enum Expectation
    {
        /// <summary>The document must be refused with 502.</summary>
        Refused,

        /// <summary>Refused with 502, or served with every hostile part gone (no marker in the answer).</summary>
        RefusedOrDefused,
    }

    public sealed record Page(string ContentType, byte[] Body, Expectation Expect);

    /// <summary>Strings that must never reach a client from a hostile upstream page.</summary>
    public static readonly string[] Markers = ["<script", "javascript:", "onerror", "evil.example", "etc/passwd", "127.0.0.2"];

    private const string Json = "application/vnd.pypi.simple.v1+json";
    private const string Html = "text/html; charset=utf-8";

    public static readonly IReadOnlyDictionary<string, Page> Pages = new Dictionary<string, Page>
    {
        ["upstream/json-truncated"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0.tar.gz","url":"https://files""", Expectation.Refused),
        ["upstream/json-array-root"] = JsonPage("[1,2,3]", Expectation.Refused),
        ["upstream/json-string-root"] = JsonPage("\"hello\"", Expectation.Refused),
        ["upstream/json-api-version-2"] = JsonPage("""{"meta":{"api-version":"2.0"},"name":"x","files":[]}""", Expectation.Refused),
        ["upstream/json-no-meta"] = JsonPage("""{"name":"x","files":[]}""", Expectation.Refused),
        ["upstream/json-files-object"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":{}}""", Expectation.Refused),
        ["upstream/json-traversal-filename"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"../../etc/passwd","url":"https://files.pythonhosted.org/x/../../etc/passwd","hashes":{}}]}""", Expectation.Refused),
        ["upstream/json-deep-nesting"] = JsonPage(new string('[', 20_000) + new string(']', 20_000), Expectation.Refused),
        ["upstream/json-nan"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":NaN}""", Expectation.Refused),
        ["upstream/json-oversized"] = JsonPage("{\"meta\":{\"api-version\":\"1.1\"},\"name\":\"x\",\"files\":[],\"pad\":\"" + new string('p', 300_000) + "\"}", Expectation.Refused),
        ["upstream/json-invalid-utf8"] = new(Json, [.. "{\"meta\":{\"api-version\":\"1.1\"},\"name\":\""u8.ToArray(), 0xC3, 0x28, .. "\",\"files\":[]}"u8.ToArray()], Expectation.Refused),
        ["upstream/json-javascript-url"] = JsonPage(JsonFile("x-1.0.tar.gz", "javascript:alert(1)//x-1.0.tar.gz"), Expectation.RefusedOrDefused),
        ["upstream/json-foreign-host-url"] = JsonPage(JsonFile("x-1.0.tar.gz", "https://evil.example/x-1.0.tar.gz"), Expectation.RefusedOrDefused),
        ["upstream/json-http-loopback-url"] = JsonPage(JsonFile("x-1.0.tar.gz", "http://127.0.0.2/x-1.0.tar.gz"), Expectation.RefusedOrDefused),
        ["upstream/json-script-name"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"<script>alert(1)</script>","files":[]}""", Expectation.RefusedOrDefused),
        ["upstream/json-script-requires-python"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0.tar.gz","url":"https://files.pythonhosted.org/x-1.0.tar.gz","hashes":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"requires-python":"\"><script>alert(1)</script>"}]}""", Expectation.RefusedOrDefused),
        ["upstream/json-script-yank-reason"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0.tar.gz","url":"https://files.pythonhosted.org/x-1.0.tar.gz","hashes":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"yanked":"<script>alert(1)</script>"}]}""", Expectation.RefusedOrDefused),
        ["upstream/json-short-sha256"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0.tar.gz","url":"https://files.pythonhosted.org/x-1.0.tar.gz","hashes":{"sha256":"abc"}}]}""", Expectation.RefusedOrDefused),
        ["upstream/json-nonhex-sha256"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0.tar.gz","url":"https://files.pythonhosted.org/x-1.0.tar.gz","hashes":{"sha256":"zz00000000000000000000000000000000000000000000000000000000000000"}}]}""", Expectation.RefusedOrDefused),
        ["upstream/json-nul-filename"] = JsonPage("""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"x-1.0.tar.gz\u0000.whl","url":"https://files.pythonhosted.org/x-1.0.tar.gz","hashes":{}}]}""", Expectation.RefusedOrDefused),
        ["upstream/html-javascript-href"] = HtmlPage("""<html><body><a href="javascript:alert(1)">x-1.0.tar.gz</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-traversal-href"] = HtmlPage("""<html><body><a href="../../../etc/passwd">passwd</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-foreign-host"] = HtmlPage("""<html><body><a href="https://evil.example/x-1.0.tar.gz">x-1.0.tar.gz</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-attribute-injection"] = HtmlPage("""<html><body><a href="https://files.pythonhosted.org/x-1.0.tar.gz#sha256=0000000000000000000000000000000000000000000000000000000000000000" data-requires-python="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" data-dist-info-metadata='"><img src=x onerror=alert(1)>'>x-1.0.tar.gz</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-pathological-comments"] = HtmlPage(string.Concat(Enumerable.Repeat("<a href=x <!-- <a '", 10_000)), Expectation.RefusedOrDefused),
        ["upstream/html-short-sha256"] = HtmlPage("""<html><body><a href="https://files.pythonhosted.org/x-1.0.tar.gz#sha256=abc">x-1.0.tar.gz</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-base-element"] = HtmlPage("""<html><head><base href="https://evil.example/"></head><body><a href="x-1.0.tar.gz">x-1.0.tar.gz</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-script-body"] = HtmlPage("""<html><body><script>alert(1)</script><a href="https://files.pythonhosted.org/x-1.0.tar.gz">x-1.0.tar.gz</a></body></html>""", Expectation.RefusedOrDefused),
        ["upstream/html-oversized"] = HtmlPage("<html><body>" + new string('x', 300_000) + "</body></html>", Expectation.Refused),
    };

    public static readonly IReadOnlyDictionary<string, string> JsonApiDocuments = new Dictionary<string, string>
    {
        ["upstream-api/truncated"] = """{"info":{"name":"x","version":"1.0"},"releases":{"1.0":[{"filename":""",
        ["upstream-api/array-root"] = "[]",
        ["upstream-api/not-json"] = "<html>not json</html>",
        ["upstream-api/deep-nesting"] = new string('{', 1) + string.Concat(Enumerable.Repeat("\"a\":{", 10_000)) + new string('}', 10_001),
    };

    /// <summary>The project name a corpus id is served under: "upstream/json-nan" → "hostile-json-nan".</summary>
    public static string ProjectOf(string id) => "hostile-" + id[(id.IndexOf('/', StringComparison.Ordinal) + 1)..];

    private static Page JsonPage(string body, Expectation expect) => new(Json, Encoding.UTF8.GetBytes(body), expect);

    private static Page HtmlPage(string body, Expectation expect) => new(Html, Encoding.UTF8.GetBytes(body), expect);

    private static string JsonFile(string filename, string url) =>
        $$$"""{"meta":{"api-version":"1.1"},"name":"x","files":[{"filename":"{{{filename}}}","url":"{{{url}}}","hashes":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}]}""";
}

/// <summary>Policy files that must stop startup with the file, the line and the problem.</summary>
public static class HostilePolicies
{
    public static readonly IReadOnlyDictionary<string, string> Files = new Dictionary<string, string>
    {
        ["policy/tab-indentation"] = "environments:\n\tdev: { tier: 1 }\n",
        ["policy/unknown-key"] = "evil: true\n",
        ["policy/top-level-list"] = "- a\n- b\n",
        ["policy/top-level-scalar"] = "just text\n",
        ["policy/two-documents"] = "approve: [six]\n---\napprove: [zipp]\n",
        ["policy/tier-nine"] = "environments:\n  dev: { tier: 9 }\n",
        ["policy/tier-text"] = "environments:\n  dev: { tier: one }\n",
        ["policy/tier-negative"] = "environments:\n  dev: { tier: -1 }\n",
        ["policy/no-tier"] = "environments:\n  dev: { access: open }\n",
        ["policy/environment-traversal"] = "environments:\n  \"../x\": { tier: 1 }\n",
        ["policy/environment-script"] = "environments:\n  \"<script>\": { tier: 1 }\n",
        ["policy/environment-twice"] = "environments:\n  dev: { tier: 1 }\n  dev: { tier: 2 }\n",
        ["policy/access-maybe"] = "environments:\n  dev: { tier: 1, access: maybe }\n",
        ["policy/cooldown-text"] = "environments:\n  prod: { tier: 3, cooldown: soon }\n",
        ["policy/unknown-option"] = "environments:\n  dev: { tier: 1, evil: yes }\n",
        ["policy/typosquat-mode"] = "environments:\n  dev: { tier: 1, typosquat: maybe }\n",
        ["policy/approve-script"] = "approve: [\"<script>\"]\n",
        ["policy/approve-leading-hyphen"] = "approve: [-bad]\n",
        ["policy/approve-mapping"] = "approve: { six: yes }\n",
        ["policy/deny-traversal"] = "deny:\n  \"../etc\": evil\n",
        ["policy/deny-list"] = "deny: [six]\n",
        ["policy/internal-invalid"] = "internal: [\"-\"]\n",
        ["policy/vet-invalid-specifier"] = "vet:\n  six: \">>>1\"\n",
        ["policy/publishers-not-list"] = "publishers:\n  six: 5\n",
        ["policy/publishers-bidi-override"] = "publishers:\n  six: [\"github:benjaminp/six/.github/workflows/release.yml\\u202E\"]\n",
        ["policy/publishers-unknown-kind"] = "publishers:\n  six: [\"activestate:benjaminp/six\"]\n",
        ["policy/publishers-gitlab-traversal"] = "publishers:\n  six: [\"gitlab:acme/six/../../evil/.gitlab-ci.yml\"]\n",
        ["policy/publishers-until-before-from"] = "publishers:\n  six:\n    - { publisher: \"google:bot@acme.iam.gserviceaccount.com\", from: 2026-01-01, until: 2025-01-01 }\n",
        ["policy/python-object-tag"] = "approve: !!python/object/apply:os.system [\"rm -rf /\"]\n",
        ["policy/unclosed-flow"] = "approve: [six, zipp\n",
        ["policy/anchor-bomb"] = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        ["policy/nul-byte"] = "approve: [six]\n\0\n",
    };
}
