using System.Text.Json;
using CuratedIndex.Data;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.JsonApi;

/// <summary>An upstream JSON API document (<c>/pypi/{project}/json</c> or <c>/pypi/{project}/{version}/json</c>), validated, kept as bytes.</summary>
public sealed record JsonApiDocument(byte[] Body);

/// <summary>Keys are <c>{project}</c> or <c>{project}/{version}</c>.</summary>
public sealed class JsonApiCache(
    IServiceScopeFactory scopes,
    UpstreamPageClient upstream,
    IOptions<UpstreamOptions> options,
    CacheMemory memory,
    TimeProvider clock,
    ILogger<JsonApiCache> logger)
    : UpstreamDocumentCache<JsonApiDocument>(scopes, upstream, options, memory, clock, logger)
{
    protected override string Kind => PageKind.Json;

    protected override string Accept => "application/json";

    protected override string UpstreamPath(string key) => $"pypi/{key}/json";

    protected override long SizeOf(JsonApiDocument value) => 32 + CacheSizes.Of(value.Body);

    protected override JsonApiDocument? Parse(string key, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("info", out var info)
                || info.ValueKind != JsonValueKind.Object)
            {
                refusal = "upstream JSON API document has no 'info' object";
                return null;
            }

            refusal = null;
            return new JsonApiDocument(body);
        }
        catch (JsonException e)
        {
            refusal = $"upstream JSON API document is not valid JSON (line {e.LineNumber + 1})";
            return null;
        }
    }
}
