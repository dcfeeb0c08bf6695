using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Upstream;

/// <summary>The upstream index: <c>Upstream:Url</c> (a PyPI-compatible root) and the hosts files may come from.</summary>
public sealed class UpstreamOptions : IValidatableObject
{
    public const string Section = "Upstream";

    /// <summary>Root of the upstream index; the simple API is under <c>{Url}simple/</c>.</summary>
    [Required]
    public string Url { get; set; } = "https://pypi.org/";

    /// <summary>Further destinations of the same upstream, used when the first is unhealthy or failing.</summary>
    public List<string> Mirrors { get; set; } = [];

    /// <summary>Hosts (optionally host:port) that file URLs may point at, besides the upstream hosts themselves.</summary>
    public List<string> FileHosts { get; set; } = ["files.pythonhosted.org"];

    /// <summary>How long a cached page is served before it is revalidated with upstream.</summary>
    public TimeSpan PageMaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long upstream's 404 for a name is remembered before upstream is asked again.</summary>
    public TimeSpan NotFoundMaxAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one upstream page request may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a file download may go without receiving data.</summary>
    public TimeSpan FileActivityTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a node waits while another node downloads the same file (it then serves the stored copy) before it
    /// downloads the file itself: a bound on what a client of the waiting node sees as silence.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SharedDownloadWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest project page accepted from upstream; larger pages are refused.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxPageBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest root project list accepted from upstream.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxIndexBytes { get; set; } = 1024L * 1024 * 1024;

    public IEnumerable<Uri> Destinations() => new[] { Url }.Concat(Mirrors).Select(u => new Uri(WithSlash(u)));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var url in new[] { Url }.Concat(Mirrors))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
            {
                yield return new ValidationResult($"Upstream URL '{url}' must be an absolute http or https URL without credentials.", [nameof(Url)]);
            }
        }
    }

    private static string WithSlash(string url) => url.EndsWith('/') ? url : url + "/";
}
