using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// <c>Cache:Path</c>: local working files (the upstream root list and its rendered forms, downloads in progress). Safe to delete.
/// <c>Cache:MemoryLimit</c>: the one byte budget shared by every in-memory cache (parsed upstream pages, JSON API
/// documents, rendered pages, remembered 404s); the least recently used entries are dropped first.
/// </summary>
public sealed class CacheOptions : IValidatableObject
{
    public const string Section = "Cache";

    /// <summary>Smallest accepted <see cref="MemoryLimit"/>: below this the caches would hold almost nothing.</summary>
    public const long MinimumMemoryLimit = 1024 * 1024;

    public string Path { get; set; } = "data/cache";

    /// <summary>A size: bytes ("268435456") or with a unit ("256MB", "1GB", "512KiB"); units are powers of 1024.</summary>
    public string MemoryLimit { get; set; } = "256MB";

    /// <summary><see cref="MemoryLimit"/> in bytes (validated at startup).</summary>
    public long MemoryLimitBytes() => TryParseSize(MemoryLimit, out var bytes) ? bytes : throw new InvalidOperationException($"Cache:MemoryLimit '{MemoryLimit}' is not a size.");

    /// <summary>The working directory, relative paths taken from <paramref name="contentRoot"/>; created if missing.</summary>
    public string DirectoryUnder(string contentRoot)
    {
        var path = System.IO.Path.IsPathRooted(Path) ? Path : System.IO.Path.Combine(contentRoot, Path);
        Directory.CreateDirectory(path);
        return path;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TryParseSize(MemoryLimit, out var bytes))
        {
            yield return new ValidationResult($"Cache:MemoryLimit '{MemoryLimit}' is not a size; write bytes or a number with KB, MB or GB (e.g. 256MB).", [nameof(MemoryLimit)]);
        }
        else if (bytes < MinimumMemoryLimit)
        {
            yield return new ValidationResult($"Cache:MemoryLimit '{MemoryLimit}' is below the minimum of 1MB.", [nameof(MemoryLimit)]);
        }
    }

    /// <summary>Reads "1048576", "512KB", "256MB", "1GB" (also KiB/MiB/GiB, K/M/G, any case, spaces allowed before the unit).</summary>
    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        var value = text?.Trim() ?? "";
        var digits = 0;
        while (digits < value.Length && char.IsAsciiDigit(value[digits]))
        {
            digits++;
        }

        if (digits == 0 || digits > 15 || !long.TryParse(value.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        long? multiplier = value[digits..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1L,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => null,
        };
        if (multiplier is null || number > long.MaxValue / multiplier)
        {
            return false;
        }

        bytes = number * multiplier.Value;
        return true;
    }
}
