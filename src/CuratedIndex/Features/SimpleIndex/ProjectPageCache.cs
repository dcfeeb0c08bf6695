using System.Collections.Frozen;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>A parsed upstream project page, with its files by filename.</summary>
public sealed record CachedProject(ProjectPage Page, FrozenDictionary<string, DistributionFile> FilesByName);

/// <summary>Upstream project pages (<c>/simple/{project}/</c>), read as PEP 691 JSON when offered, else PEP 503 HTML.</summary>
public sealed class ProjectPageCache(
    IServiceScopeFactory scopes,
    UpstreamPageClient upstream,
    IOptions<UpstreamOptions> options,
    TimeProvider clock,
    ILogger<ProjectPageCache> logger)
    : UpstreamDocumentCache<CachedProject>(scopes, upstream, options, clock, logger)
{
    public const string UpstreamAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

    protected override string Kind => PageKind.Simple;

    protected override string Accept => UpstreamAccept;

    protected override string UpstreamPath(string key) => $"simple/{key}/";

    protected override CachedProject? Parse(string key, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal)
    {
        var parsed = ReadPage(key, body, contentType, url, headerSerial, out refusal);
        foreach (var dropped in parsed?.Page.DroppedFiles ?? [])
        {
            UpstreamLog.FileDropped(logger, key, dropped);
        }

        return parsed;
    }

    public static CachedProject? ReadPage(string project, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal)
    {
        try
        {
            var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
            ProjectPage page;
            if (mediaType == SimpleMediaTypes.Json)
            {
                page = SimpleJsonReader.ReadProject(body, url);
                if (!string.Equals(ProjectName.Normalize(page.Name), project, StringComparison.Ordinal))
                {
                    refusal = $"upstream page for '{project}' names another project";
                    return null;
                }
            }
            else if (mediaType is SimpleMediaTypes.Html or SimpleMediaTypes.TextHtml or "")
            {
                page = SimpleHtmlReader.ReadProject(Encoding.UTF8.GetString(body), url, project);
            }
            else
            {
                refusal = $"upstream page has unsupported Content-Type '{mediaType}'";
                return null;
            }

            page = page with { Name = project, LastSerial = page.LastSerial ?? headerSerial };
            var files = new Dictionary<string, DistributionFile>(StringComparer.Ordinal);
            foreach (var file in page.Files)
            {
                files.TryAdd(file.Filename, file);
            }

            refusal = null;
            return new CachedProject(page, files.ToFrozenDictionary(StringComparer.Ordinal));
        }
        catch (SimplePageFormatException e)
        {
            refusal = e.Message;
            return null;
        }
    }
}
