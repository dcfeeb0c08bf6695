using System.ComponentModel.DataAnnotations;
using System.Net;

namespace CuratedIndex.Hosting;

/// <summary>
/// <c>Server</c>: how clients and reverse proxies reach this server.
/// <c>Server:PublicUrl</c> is the URL clients reach it at (e.g. <c>https://pypi.example.org/</c>), for the few URLs that
/// must be absolute (JSON API file URLs, PEP 740 provenance); without it those are path-only or left out: nothing the
/// server writes is taken from a request's <c>Host</c> header.
/// <c>Server:KnownProxies</c> and <c>Server:KnownNetworks</c> are the peers whose <c>X-Forwarded-For</c>, <c>-Proto</c>
/// and <c>-Host</c> are believed. When neither is set, only loopback is (ASP.NET Core's default: a reverse proxy on the
/// same machine); once either is set, exactly the listed addresses and networks are, loopback included only when listed.
/// <c>Server:Organization</c> names this organization in the audits files it exports.
/// </summary>
public sealed class ServerOptions : IValidatableObject
{
    public const string Section = "Server";

    public string? PublicUrl { get; set; }

    /// <summary>The organization an audits file export names (<c>organization</c>), and the source importers record.</summary>
    public string Organization { get; set; } = DefaultOrganization;

    public const string DefaultOrganization = "curated-index";

    /// <summary>
    /// Large bodies (pages, the root list, stored files) go from memory or the file straight to the socket (sendfile for
    /// files) instead of through Kestrel's output pipe (<see cref="Hosting.DirectSend"/>). On by default; false turns it off.
    /// Read once at start-up.
    /// </summary>
    public bool DirectSend { get; set; } = true;

    /// <summary>
    /// Index reads run on the socket threads where their bytes arrive instead of being handed to the thread pool
    /// (<see cref="SocketThreads"/>); everything slow leaves those threads. On by default (with SQLite: see
    /// <see cref="SocketThreads.ShouldRunInline"/>); false turns it off. Read once at start-up by the serve command.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>IP addresses of reverse proxies, e.g. <c>10.0.0.5</c> or <c>::1</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of reverse proxies in CIDR form, e.g. <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(PublicUrl)
            && (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)))
        {
            yield return new ValidationResult($"Server:PublicUrl '{PublicUrl}' must be an absolute http or https URL without credentials, query or fragment.", [nameof(PublicUrl)]);
        }

        var organization = new List<string>();
        CuratedIndex.Features.Releases.AuditsFile.CheckName(organization, "Server:Organization", Organization);
        foreach (var problem in organization)
        {
            yield return new ValidationResult(problem, [nameof(Organization)]);
        }

        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p.Trim(), out _)))
        {
            yield return new ValidationResult($"Server:KnownProxies: '{proxy}' is not an IP address", [nameof(KnownProxies)]);
        }

        foreach (var network in KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n.Trim(), out _)))
        {
            yield return new ValidationResult($"Server:KnownNetworks: '{network}' is not a network in CIDR form (e.g. 10.0.0.0/24)", [nameof(KnownNetworks)]);
        }
    }
}
