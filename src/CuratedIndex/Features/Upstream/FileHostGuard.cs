using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Upstream;

/// <summary>
/// Decides whether the proxy may fetch a URL that an upstream page named (a file, its metadata, its provenance). Only the
/// upstream's own hosts and <c>Upstream:FileHosts</c> qualify, and only with <c>Upstream:Url</c>'s scheme, so a hostile
/// page can neither point the proxy anywhere else nor downgrade a download to plain <c>http://</c>.
/// </summary>
public sealed class FileHostGuard(IOptions<UpstreamOptions> options)
{
    private readonly HashSet<string> _allowed = BuildAllowed(options.Value);
    private readonly string _scheme = new Uri(options.Value.Url).Scheme;

    public bool IsAllowed(Uri url) => Refusal(url) is null;

    /// <summary>Why the proxy will not fetch <paramref name="url"/> ("a host that is not allowed (…)"), or null when it may.</summary>
    public string? Refusal(Uri url)
    {
        if (!url.IsAbsoluteUri || !string.IsNullOrEmpty(url.UserInfo))
        {
            return "a URL that is not an absolute URL without credentials";
        }

        if (!string.Equals(url.Scheme, _scheme, StringComparison.OrdinalIgnoreCase))
        {
            return $"a URL whose scheme is not the upstream's ({url.Scheme}:// where Upstream:Url is {_scheme}://)";
        }

        var allowed = _allowed.Contains(url.Authority.ToLowerInvariant()) || (url.IsDefaultPort && _allowed.Contains(url.Host.ToLowerInvariant()));
        return allowed ? null : $"a host that is not allowed ({url.Authority})";
    }

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
