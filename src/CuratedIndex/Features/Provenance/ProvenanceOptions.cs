using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using CuratedIndex.Hosting;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Provenance;

/// <summary>PEP 740 provenance verification (section <c>Provenance</c>).</summary>
public sealed class ProvenanceOptions
{
    public const string Section = "Provenance";

    /// <summary>The Sigstore trusted root verification anchors on; relative paths are under the content root.</summary>
    [Required]
    public string TrustedRootPath { get; set; } = "config/sigstore/trusted_root.json";

    /// <summary>The largest provenance document fetched from upstream (real ones are 5 to 20 KB per attestation; the verifier takes at most 1 MiB).</summary>
    [Range(1024, ProvenanceVerifier.MaxDocumentBytes)]
    public int MaxDocumentBytes { get; set; } = 1024 * 1024;

    /// <summary>An absolute path as given; a relative one under the content root, else beside the executable (where the build copies config/).</summary>
    public string ResolveTrustedRootPath(string contentRoot)
    {
        if (Path.IsPathRooted(TrustedRootPath))
        {
            return TrustedRootPath;
        }

        var fromContentRoot = Path.Combine(contentRoot, TrustedRootPath);
        var beside = Path.Combine(AppContext.BaseDirectory, TrustedRootPath);
        return File.Exists(fromContentRoot) || !File.Exists(beside) ? fromContentRoot : beside;
    }
}

/// <summary>
/// The trusted root, read once at startup. A missing or unreadable root stops the start with the reason: provenance that
/// cannot be verified would otherwise hold every release silently. <see cref="StartupRefusedException"/>: <c>serve</c> prints the
/// reason as one line and exits 2, where any other exception would end the process with a stack trace.
/// </summary>
public sealed class TrustedRootSource
{
    public TrustedRootSource(IOptions<ProvenanceOptions> options, IHostEnvironment environment)
    {
        Path = options.Value.ResolveTrustedRootPath(environment.ContentRootPath);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupRefusedException($"Provenance:TrustedRootPath: cannot read the Sigstore trusted root at {Path}: {e.Message}", e);
        }

        try
        {
            Root = TrustedRoot.Parse(bytes);
        }
        catch (TrustedRootException e)
        {
            throw new StartupRefusedException($"Provenance:TrustedRootPath: {Path} is not a usable Sigstore trusted root: {e.Message}", e);
        }

        Digest = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    public string Path { get; }

    public TrustedRoot Root { get; }

    /// <summary>The first 16 hex digits of the file's sha256: stored with each result, so a refreshed root re-checks failures.</summary>
    public string Digest { get; }
}
