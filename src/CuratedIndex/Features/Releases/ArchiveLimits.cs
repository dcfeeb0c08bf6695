using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// Hard limits for reading a distribution archive in memory. Sizes count bytes actually decompressed,
/// never what an archive's headers declare.
/// </summary>
public sealed record ArchiveLimits : IValidatableObject
{
    public const string Section = "Review:Archives";

    /// <summary>Tiny files compress absurdly well; the ratio limit applies once this many bytes came out.</summary>
    public const long RatioFloorBytes = 1024 * 1024;

    [Range(1, 10_000_000)]
    public int MaxEntries { get; set; } = 20_000;

    [Range(1, long.MaxValue)]
    public long MaxTotalBytes { get; set; } = 512L * 1024 * 1024;

    [Range(1, long.MaxValue)]
    public long MaxEntryBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Uncompressed bytes per compressed byte (per zip entry and per whole archive).</summary>
    [Range(1, 100_000)]
    public int MaxCompressionRatio { get; set; } = 200;

    /// <summary>Files up to this size that are UTF-8 text keep their text for the diff.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public int MaxTextBytes { get; set; } = 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxEntryBytes > MaxTotalBytes)
        {
            yield return new ValidationResult($"{Section}:MaxEntryBytes cannot exceed {Section}:MaxTotalBytes.", [nameof(MaxEntryBytes)]);
        }

        if (MaxTextBytes > MaxEntryBytes)
        {
            yield return new ValidationResult($"{Section}:MaxTextBytes cannot exceed {Section}:MaxEntryBytes.", [nameof(MaxTextBytes)]);
        }
    }
}
