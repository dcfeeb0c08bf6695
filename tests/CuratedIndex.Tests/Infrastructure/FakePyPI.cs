using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>One distribution file the fake upstream serves, with the bytes its index promises.</summary>
public sealed record FakeFile(string Project, string Filename, byte[] Content, byte[]? Metadata, string UploadTime)
{
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(Content));
    public string? MetadataSha256 { get; } = Metadata is null ? null : Convert.ToHexStringLower(SHA256.HashData(Metadata));

    /// <summary>Bytes actually served for the file; tests set this to make upstream lie about a file.</summary>
    public byte[]? ServedContent { get; set; }

    public string? Provenance { get; set; }

    /// <summary>Yanked upstream (PEP 592): the reason, "" for a yank without one, null when not yanked.</summary>
    public string? YankedReason { get; set; }
}

/// <summary>
/// A PyPI-shaped upstream on a real loopback port, serving real wheels: PEP 691 JSON and PEP 503 HTML
/// pages with PyPI's headers, files under /packages/, PEP 658 metadata and the JSON API. Tests turn
/// knobs (outage, slow files, lying hashes, HTML only) or override any path with <see cref="Override"/>.
/// </summary>
public sealed class FakePyPI : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<FakeFile>> _projects = new(StringComparer.Ordinal);

    private FakePyPI(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Requests per path (GET and HEAD), for asserting what reached upstream.</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new(StringComparer.Ordinal);

    /// <summary>When true every request answers 503, as an upstream outage.</summary>
    public bool Down { get; set; }

    /// <summary>When true, project pages are PEP 503 HTML only (a bandersnatch/devpi-style mirror).</summary>
    public bool HtmlOnly { get; set; }

    /// <summary>Delay between 16 KB chunks of a file body, so concurrent downloads overlap.</summary>
    public TimeSpan FileChunkDelay { get; set; }

    public long Serial { get; set; } = 1000;

    /// <summary>Path → handler that replaces the normal answer (hostile pages, redirects, hangs).</summary>
    public ConcurrentDictionary<string, RequestDelegate> Override { get; } = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Projects => _projects.Keys.ToList();

    /// <summary>PEP 792 status per project (normalized name); "active" when absent. A quarantined project lists no files, as on PyPI.</summary>
    public ConcurrentDictionary<string, string> ProjectStatus { get; } = new(StringComparer.Ordinal);

    /// <summary>JSON API <c>info</c> fields per project (normalized name) that replace the defaults (summary, project_urls, …).</summary>
    public ConcurrentDictionary<string, JsonObject> ProjectInfo { get; } = new(StringComparer.Ordinal);

    public static async Task<FakePyPI> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakePyPI(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return fake;
    }

    public static string FixturePath(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>Adds every real wheel under Fixtures/dists.</summary>
    public FakePyPI WithFixtureDists() => WithFixtures("dists");

    /// <summary>Adds every real wheel under Fixtures/closure: pytest 3.5.0's dependency closure and a few newer releases (MANIFEST.md).</summary>
    public FakePyPI WithFixtureClosure() => WithFixtures("closure");

    private FakePyPI WithFixtures(string folder)
    {
        foreach (var path in Directory.GetFiles(FixturePath(folder)).Order(StringComparer.Ordinal).ToList())
        {
            var filename = Path.GetFileName(path);
            if (!DistributionFilename.TryParse(filename, null, out var parsed))
            {
                throw new InvalidOperationException($"fixture {filename} is not a distribution filename");
            }

            AddFile(parsed.Project, filename, System.IO.File.ReadAllBytes(path));
        }

        return this;
    }

    /// <summary>Lists a file; a wheel's PEP 658 metadata is its METADATA unless <paramref name="metadata"/> says otherwise.</summary>
    public FakeFile AddFile(string project, string filename, byte[] content, string uploadTime = "2024-01-02T03:04:05.123456Z", byte[]? metadata = null)
    {
        var file = new FakeFile(ProjectName.Normalize(project), filename, content, metadata ?? WheelMetadata(filename, content), uploadTime);
        _projects.GetOrAdd(file.Project, _ => []).Add(file);
        return file;
    }

    /// <summary>Lists a file without PEP 658 metadata, as upstream does for files uploaded before it (a wheel's METADATA is then only inside the wheel).</summary>
    public FakeFile AddFileWithoutMetadata(string project, string filename, byte[] content)
    {
        var file = new FakeFile(ProjectName.Normalize(project), filename, content, null, "2024-01-02T03:04:05.123456Z");
        _projects.GetOrAdd(file.Project, _ => []).Add(file);
        return file;
    }

    /// <summary>Takes a file off its project page (the bytes stay downloadable, as on a CDN).</summary>
    public void RemoveFromPage(string filename)
    {
        foreach (var files in _projects.Values)
        {
            files.RemoveAll(f => f.Filename == filename);
        }
    }

    public FakeFile File(string filename) => _projects.Values.SelectMany(f => f).Single(f => f.Filename == filename);

    public int HitsOn(string path) => Hits.GetValueOrDefault(path);

    public string FileUrl(string filename) => new Uri(BaseUrl, $"packages/{filename}").ToString();

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        Hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (Override.TryGetValue(path, out var handler))
        {
            await handler(context);
            return;
        }

        if (Down)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var segments = path.Trim('/').Split('/');
        switch (segments)
        {
            case ["simple"]:
                await WriteRootAsync(context);
                return;
            case ["simple", var project] when _projects.TryGetValue(project, out var files):
                await WriteProjectAsync(context, project, files);
                return;
            case ["packages", var filename]:
                await WriteFileAsync(context, filename);
                return;
            case ["pypi", var project, "json"] when _projects.TryGetValue(project, out var files):
                await WriteJsonApiAsync(context, project, files);
                return;
            case ["pypi", var project, var version, "json"] when _projects.TryGetValue(project, out var files) && files.Any(f => VersionOf(f) == version):
                await WriteJsonApiAsync(context, project, files, version);
                return;
            case ["integrity", _, _, var filename, "provenance"]:
                var provenance = _projects.Values.SelectMany(f => f).FirstOrDefault(f => f.Filename == filename)?.Provenance;
                if (provenance is null)
                {
                    context.Response.StatusCode = 404;
                    return;
                }

                context.Response.ContentType = "application/vnd.pypi.integrity.v1+json";
                await context.Response.WriteAsync(provenance);
                return;
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync("404 Not Found");
                return;
        }
    }

    private async Task WriteRootAsync(HttpContext context)
    {
        var json = !HtmlOnly && context.Request.Headers.Accept.ToString().Contains("application/vnd.pypi.simple.v1+json", StringComparison.Ordinal);
        context.Response.Headers["X-PyPI-Last-Serial"] = Serial.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (json)
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            var projects = new JsonArray(_projects.Keys.Order(StringComparer.Ordinal).Select(p => (JsonNode)new JsonObject { ["name"] = p, ["_last-serial"] = Serial }).ToArray());
            await context.Response.WriteAsync(new JsonObject { ["meta"] = new JsonObject { ["api-version"] = "1.1", ["_last-serial"] = Serial }, ["projects"] = projects }.ToJsonString());
            return;
        }

        context.Response.ContentType = "text/html";
        var html = new StringBuilder("<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Simple index</title></head><body>\n");
        foreach (var project in _projects.Keys.Order(StringComparer.Ordinal))
        {
            html.Append(System.Globalization.CultureInfo.InvariantCulture, $"<a href=\"/simple/{project}/\">{project}</a>\n");
        }

        await context.Response.WriteAsync(html.Append("</body></html>").ToString());
    }

    private async Task WriteProjectAsync(HttpContext context, string project, List<FakeFile> files)
    {
        var json = !HtmlOnly && context.Request.Headers.Accept.ToString().Contains("application/vnd.pypi.simple.v1+json", StringComparison.Ordinal);
        var status = ProjectStatus.GetValueOrDefault(project, "active");
        if (status == "quarantined")
        {
            files = [];
        }

        string body;
        if (json)
        {
            var fileNodes = files.Select(f => (JsonNode)new JsonObject
            {
                ["filename"] = f.Filename,
                ["url"] = FileUrl(f.Filename),
                ["hashes"] = new JsonObject { ["sha256"] = f.Sha256 },
                ["requires-python"] = RequiresPython(f),
                ["size"] = f.Content.Length,
                ["upload-time"] = f.UploadTime,
                ["yanked"] = f.YankedReason is null ? (JsonNode)false : f.YankedReason.Length == 0 ? (JsonNode)true : (JsonNode)f.YankedReason,
                ["core-metadata"] = f.MetadataSha256 is null ? false : new JsonObject { ["sha256"] = f.MetadataSha256 },
                ["data-dist-info-metadata"] = f.MetadataSha256 is null ? false : new JsonObject { ["sha256"] = f.MetadataSha256 },
                ["provenance"] = f.Provenance is null ? null : new Uri(BaseUrl, $"integrity/{project}/{VersionOf(f)}/{f.Filename}/provenance").ToString(),
            }).ToArray();
            body = new JsonObject
            {
                ["meta"] = new JsonObject { ["api-version"] = "1.4", ["_last-serial"] = Serial },
                ["name"] = project,
                ["versions"] = new JsonArray(files.Select(VersionOf).OfType<string>().Distinct().Select(v => (JsonNode)v).ToArray()),
                ["files"] = new JsonArray(fileNodes),
                ["project-status"] = status == "quarantined" ? new JsonObject { ["status"] = status, ["reason"] = "malware reported" } : new JsonObject { ["status"] = status },
            }.ToJsonString();
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
        }
        else
        {
            var html = new StringBuilder($"<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for {project}</title></head><body><h1>Links for {project}</h1>\n");
            foreach (var f in files)
            {
                // Relative links, as bandersnatch writes them.
                html.Append(System.Globalization.CultureInfo.InvariantCulture, $"<a href=\"../../packages/{f.Filename}#sha256={f.Sha256}\"");
                if (RequiresPython(f) is { } requires)
                {
                    html.Append(" data-requires-python=\"").Append(System.Net.WebUtility.HtmlEncode(requires)).Append('"');
                }

                html.Append(System.Globalization.CultureInfo.InvariantCulture, $">{f.Filename}</a><br/>\n");
            }

            body = html.Append(System.Globalization.CultureInfo.InvariantCulture, $"</body></html>\n<!--SERIAL {Serial}-->").ToString();
            context.Response.ContentType = "text/html";
        }

        var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..16]}\"";
        context.Response.Headers.ETag = etag;
        context.Response.Headers["X-PyPI-Last-Serial"] = Serial.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (context.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        await context.Response.WriteAsync(body);
    }

    private async Task WriteFileAsync(HttpContext context, string filename)
    {
        var isMetadata = filename.EndsWith(".metadata", StringComparison.Ordinal);
        var file = _projects.Values.SelectMany(f => f).FirstOrDefault(f => f.Filename == (isMetadata ? filename[..^9] : filename));
        var content = isMetadata ? file?.Metadata : file?.ServedContent ?? file?.Content;
        if (content is null)
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = content.Length;
        for (var offset = 0; offset < content.Length; offset += 16 * 1024)
        {
            if (FileChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(FileChunkDelay);
            }

            await context.Response.Body.WriteAsync(content.AsMemory(offset, Math.Min(16 * 1024, content.Length - offset)));
            await context.Response.Body.FlushAsync();
        }
    }

    private async Task WriteJsonApiAsync(HttpContext context, string project, List<FakeFile> files, string? described = null)
    {
        var releases = new JsonObject();
        foreach (var group in files.Where(f => VersionOf(f) is not null).GroupBy(VersionOf))
        {
            releases[group.Key!] = new JsonArray(group.Select(f => (JsonNode)new JsonObject
            {
                ["filename"] = f.Filename,
                ["url"] = FileUrl(f.Filename),
                ["digests"] = new JsonObject { ["sha256"] = f.Sha256 },
                ["size"] = f.Content.Length,
                ["packagetype"] = "bdist_wheel",
            }).ToArray());
        }

        // PyPI's version document describes that release and lists no others.
        var latest = described ?? files.Select(VersionOf).OfType<string>().Max(v => Pep440Version.Parse(v))!.ToString();
        var body = new JsonObject
        {
            ["info"] = Info(project, latest),
            ["last_serial"] = Serial,
            ["releases"] = described is null ? releases : new JsonObject(),
            ["urls"] = releases[latest]!.DeepClone(),
            ["vulnerabilities"] = new JsonArray(),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions()));
    }

    private JsonObject Info(string project, string latest)
    {
        var info = new JsonObject { ["name"] = project, ["version"] = latest, ["summary"] = $"fixture project {project}" };
        if (ProjectInfo.TryGetValue(project, out var fields))
        {
            foreach (var (key, value) in fields)
            {
                info[key] = value?.DeepClone();
            }
        }

        return info;
    }

    private static string? VersionOf(FakeFile file) =>
        DistributionFilename.TryParse(file.Filename, file.Project, out var parsed) ? parsed.Version : null;

    private static string? RequiresPython(FakeFile file)
    {
        if (file.Metadata is null)
        {
            return null;
        }

        var line = Encoding.UTF8.GetString(file.Metadata).Split('\n').FirstOrDefault(l => l.StartsWith("Requires-Python:", StringComparison.Ordinal));
        return line?["Requires-Python:".Length..].Trim();
    }

    private static byte[]? WheelMetadata(string filename, byte[] content)
    {
        if (!filename.EndsWith(".whl", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            using var zip = new ZipArchive(new MemoryStream(content));
            var entry = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1);
            if (entry is null)
            {
                return null;
            }

            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (InvalidDataException)
        {
            return null; // not a real archive: no metadata to offer
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
