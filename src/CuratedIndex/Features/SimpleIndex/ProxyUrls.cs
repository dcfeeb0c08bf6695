using CuratedIndex.Hosting;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// The proxy's own URLs as clients must see them, the same for every request: nothing here comes from the request's
/// <c>Host</c> (rendered pages are cached and shared, so a Host-derived URL would be a cache-poisoning and
/// memory-exhaustion lever). Page and file URLs are path-only and end in the filename with no query (PROTOCOL.md A4,
/// A5). Absolute URLs (PEP 740 provenance, JSON API file URLs) need <c>Server:PublicUrl</c>: without it provenance
/// is left out (PROTOCOL.md D10 allows only an absolute URL) and JSON API file URLs are path-only.
/// </summary>
public sealed class ProxyUrls
{
    public ProxyUrls(IOptions<ServerOptions> options)
    {
        if (options.Value.PublicUrl is { Length: > 0 } publicUrl)
        {
            var uri = new Uri(publicUrl);
            PublicOrigin = uri.GetLeftPart(UriPartial.Authority);
            PathBase = uri.AbsolutePath.TrimEnd('/');
        }
    }

    /// <summary><c>scheme://host[:port]</c> of <c>Server:PublicUrl</c>, or null when it is not configured.</summary>
    public string? PublicOrigin { get; }

    /// <summary>The path of <c>Server:PublicUrl</c> without its trailing slash ("" at the root or when not configured).</summary>
    public string PathBase { get; } = "";

    public string Project(string environment, string project) => $"{PathBase}/{environment}/simple/{project}/";

    public string File(string environment, string project, string filename) =>
        $"{PathBase}/{environment}/files/{project}/{Uri.EscapeDataString(filename)}";

    /// <summary>A file URL for documents that carry absolute URLs (the JSON API): absolute with <c>Server:PublicUrl</c>, else path-only.</summary>
    public string PublicFile(string environment, string project, string filename) =>
        $"{PublicOrigin}{File(environment, project, filename)}";

    /// <summary>The PEP 740 provenance URL, which must be absolute; null (left out) without <c>Server:PublicUrl</c>.</summary>
    public string? Provenance(string environment, string project, string version, string filename) =>
        PublicOrigin is null
            ? null
            : $"{PublicOrigin}{PathBase}/{environment}/integrity/{project}/{Uri.EscapeDataString(version)}/{Uri.EscapeDataString(filename)}/provenance";
}
