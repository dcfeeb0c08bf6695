namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// The proxy's own URLs as clients must see them. File URLs are origin-relative and end in the filename with
/// no query (PROTOCOL.md A4, A5); provenance URLs must be absolute (PEP 740), so they carry the origin.
/// </summary>
public sealed record ProxyUrls(string Origin, string PathBase)
{
    public static ProxyUrls For(HttpRequest request) =>
        new($"{request.Scheme}://{request.Host.Value}", request.PathBase.Value ?? "");

    public string Project(string environment, string project) => $"{PathBase}/{environment}/simple/{project}/";

    public string File(string environment, string project, string filename) =>
        $"{PathBase}/{environment}/files/{project}/{Uri.EscapeDataString(filename)}";

    public string Provenance(string environment, string project, string version, string filename) =>
        $"{Origin}{PathBase}/{environment}/integrity/{project}/{Uri.EscapeDataString(version)}/{Uri.EscapeDataString(filename)}/provenance";
}
