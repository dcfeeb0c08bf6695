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

    public S3StorageOptions S3 { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.FileSystem && string.IsNullOrWhiteSpace(Path))
        {
            yield return new ValidationResult("Storage:Path is required for the FileSystem provider.", [nameof(Path)]);
        }

        if (Provider == StorageProvider.S3)
        {
            yield return new ValidationResult("Storage:Provider S3 arrives with the scale-out profile; use FileSystem.", [nameof(Provider)]);
        }
    }
}

public sealed class S3StorageOptions
{
    public string? ServiceUrl { get; set; }
    public string? Bucket { get; set; }
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
}
