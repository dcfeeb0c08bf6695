using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Upstream;

/// <summary>
/// Decides whether the proxy may fetch a URL that an upstream page named. Only the upstream's own
/// hosts and <c>Upstream:FileHosts</c> qualify, so a hostile page cannot point the proxy anywhere else.
/// </summary>
public sealed class FileHostGuard(IOptions<UpstreamOptions> options)
{
    private readonly HashSet<string> _allowed = BuildAllowed(options.Value);

    public bool IsAllowed(Uri url) =>
        url.IsAbsoluteUri
        && url.Scheme is "https" or "http"
        && string.IsNullOrEmpty(url.UserInfo)
        && (_allowed.Contains(url.Authority.ToLowerInvariant()) || (url.IsDefaultPort && _allowed.Contains(url.Host.ToLowerInvariant())));

    private static HashSet<string> BuildAllowed(UpstreamOptions options)
    {
        var allowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var destination in options.Destinations())
        {
            allowed.Add(destination.Authority.ToLowerInvariant());
        }

        foreach (var host in options.FileHosts)
        {
            allowed.Add(host.Trim().ToLowerInvariant());
        }

        return allowed;
    }
}
