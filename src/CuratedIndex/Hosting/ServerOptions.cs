using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Hosting;

/// <summary>
/// <c>Server:PublicUrl</c>: the URL clients reach this server at (e.g. <c>https://pypi.example.org/</c>), for the
/// few URLs that must be absolute (JSON API file URLs, PEP 740 provenance). Without it, those are path-only or left
/// out: nothing the server writes is taken from a request's <c>Host</c> header.
/// </summary>
public sealed class ServerOptions : IValidatableObject
{
    public const string Section = "Server";

    public string? PublicUrl { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(PublicUrl))
        {
            yield break;
        }

        if (!Uri.TryCreate(PublicUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            yield return new ValidationResult($"Server:PublicUrl '{PublicUrl}' must be an absolute http or https URL without credentials, query or fragment.", [nameof(PublicUrl)]);
        }
    }
}
