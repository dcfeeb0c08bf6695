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
            foreach (var problem in S3.Problems())
            {
                yield return new ValidationResult(problem, [nameof(S3)]);
            }
        }
        else if (S3.PresignedRedirect)
        {
            yield return new ValidationResult("Storage:S3:PresignedRedirect needs Storage:Provider S3.", [nameof(S3)]);
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
    /// <summary>Longest <see cref="PresignedExpiry"/> S3 accepts for a presigned URL (SigV4: seven days).</summary>
    public static readonly TimeSpan MaximumPresignedExpiry = TimeSpan.FromDays(7);

    /// <summary>The S3 API's base URL, e.g. <c>http://minio:9000</c>: scheme, host and port only.</summary>
    public string? ServiceUrl { get; set; }

    public string? Bucket { get; set; }

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>The region requests are signed for. MinIO and most S3-compatible stores accept the default.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>
    /// Off by default. On: a GET for a verified stored file is answered with 307 to a presigned URL on <see cref="ServiceUrl"/>,
    /// so clients download from the object store directly (they must be able to reach it).
    /// </summary>
    public bool PresignedRedirect { get; set; }

    /// <summary>How long a presigned redirect URL stays valid.</summary>
    public TimeSpan PresignedExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>What is wrong with these settings for <c>Storage:Provider S3</c>, one line each.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(ServiceUrl))
        {
            yield return "Storage:S3:ServiceUrl is required for Storage:Provider S3 (e.g. http://minio:9000).";
        }
        else if (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var url)
            || url.Scheme is not ("http" or "https")
            || url.AbsolutePath != "/" || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            yield return $"Storage:S3:ServiceUrl must be an absolute http or https URL with only a scheme, host and port, such as http://minio:9000 (got '{ServiceUrl}').";
        }

        if (string.IsNullOrWhiteSpace(Bucket))
        {
            yield return "Storage:S3:Bucket is required for Storage:Provider S3.";
        }
        else if (BucketNameProblem(Bucket) is { } problem)
        {
            yield return $"Storage:S3:Bucket {problem} (got '{Bucket}').";
        }

        if (string.IsNullOrEmpty(AccessKey))
        {
            yield return "Storage:S3:AccessKey is required for Storage:Provider S3.";
        }

        if (string.IsNullOrEmpty(SecretKey))
        {
            yield return "Storage:S3:SecretKey is required for Storage:Provider S3.";
        }

        if (string.IsNullOrEmpty(Region) || !Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            yield return $"Storage:S3:Region must be a region name such as us-east-1 (got '{Region}').";
        }

        if (PresignedExpiry < TimeSpan.FromSeconds(1) || PresignedExpiry > MaximumPresignedExpiry)
        {
            yield return $"Storage:S3:PresignedExpiry must be between 00:00:01 and 7.00:00:00 (got {PresignedExpiry}).";
        }
    }

    /// <summary>
    /// Why <paramref name="bucket"/> is not a DNS-style bucket name, or null: 3 to 63 lowercase letters, digits, hyphens and
    /// dots, starting and ending with a letter or digit, no two dots in a row, not an IP address.
    /// </summary>
    public static string? BucketNameProblem(string bucket)
    {
        if (bucket.Length is < 3 or > 63)
        {
            return "must be 3 to 63 characters long";
        }

        if (!bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
        {
            return "may contain only lowercase letters, digits, '-' and '.'";
        }

        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
        {
            return "must start and end with a letter or a digit";
        }

        if (bucket.Contains("..", StringComparison.Ordinal) || bucket.Contains(".-", StringComparison.Ordinal) || bucket.Contains("-.", StringComparison.Ordinal))
        {
            return "must be DNS-style: no '..', '.-' or '-.'";
        }

        if (System.Net.IPAddress.TryParse(bucket, out _))
        {
            return "must not be an IP address";
        }

        return null;
    }
}
