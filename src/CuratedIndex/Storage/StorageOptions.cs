using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Storage;

public enum StorageProvider
{
    FileSystem,
    S3,
}

public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.FileSystem;

    /// <summary>Directory for the FileSystem provider (relative paths are under the content root).</summary>
    public string Path { get; set; } = "data/artifacts";

    public FileSystemStorageOptions FileSystem { get; set; } = new();

    public S3StorageOptions S3 { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.FileSystem && string.IsNullOrWhiteSpace(Path))
        {
            yield return new ValidationResult("Storage:Path is required for the FileSystem provider.", [nameof(Path)]);
        }

        if (!string.IsNullOrEmpty(FileSystem.AccelRedirectPrefix))
        {
            if (FileSystemStorageOptions.AccelRedirectPrefixProblem(FileSystem.AccelRedirectPrefix) is { } problem)
            {
                yield return new ValidationResult($"Storage:FileSystem:AccelRedirectPrefix {problem}.", [nameof(FileSystem)]);
            }

            if (Provider != StorageProvider.FileSystem)
            {
                yield return new ValidationResult(
                    "Storage:FileSystem:AccelRedirectPrefix needs Storage:Provider FileSystem: nginx serves the files from the artifact directory.",
                    [nameof(FileSystem)]);
            }
        }

        if (Provider == StorageProvider.S3)
        {
            yield return new ValidationResult("Storage:Provider S3 arrives with the scale-out profile; use FileSystem.", [nameof(Provider)]);
        }
    }
}

public sealed class FileSystemStorageOptions
{
    /// <summary>
    /// Off when empty (the default). Set (e.g. <c>/_curated_index_artifacts/</c>) behind nginx: a verified stored file is
    /// answered with no body and <c>X-Accel-Redirect: {prefix}{store key}</c>, and nginx sends the bytes from an
    /// <c>internal</c> location that aliases <c>Storage:Path</c>.
    /// </summary>
    public string AccelRedirectPrefix { get; set; } = "";

    /// <summary>
    /// Why <paramref name="prefix"/> is not a usable X-Accel-Redirect prefix, or null. It becomes the start of a URI nginx
    /// redirects to internally, so it is a plain absolute path: segments of letters, digits and <c>._~-</c>, each between
    /// slashes, not <c>.</c> or <c>..</c>, and nothing that would start a query or a fragment or need decoding.
    /// </summary>
    public static string? AccelRedirectPrefixProblem(string prefix)
    {
        if (prefix.Length < 3 || prefix[0] != '/' || prefix[^1] != '/')
        {
            return $"must be a path that starts and ends with '/', such as /_curated_index_artifacts/ (got '{Printable(prefix)}')";
        }

        foreach (var segment in prefix[1..^1].Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".."
                || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '~' or '-'))
            {
                return $"may contain only path segments of letters, digits and . _ ~ - (no '..', no '//', no control characters) (got '{Printable(prefix)}')";
            }
        }

        return null;
    }

    private static string Printable(string value) =>
        string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}

public sealed class S3StorageOptions
{
    public string? ServiceUrl { get; set; }
    public string? Bucket { get; set; }
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
}
