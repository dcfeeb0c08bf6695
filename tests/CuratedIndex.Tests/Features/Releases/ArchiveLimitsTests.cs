using System.ComponentModel.DataAnnotations;
using CuratedIndex.Features.Releases;
using Xunit;

namespace CuratedIndex.Tests.Features.Releases;

public sealed class ArchiveLimitsTests
{
    private static List<string> Errors(ArchiveLimits limits)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(limits, new(limits), results, validateAllProperties: true);
        return results.Select(r => r.ErrorMessage!).ToList();
    }

    [Fact]
    public void Defaults_AreValidAndAsDocumented()
    {
        var limits = new ArchiveLimits();

        Assert.Empty(Errors(limits));
        Assert.Equal((20_000, 512L << 20, 64L << 20, 200, 1 << 20), (limits.MaxEntries, limits.MaxTotalBytes, limits.MaxEntryBytes, limits.MaxCompressionRatio, limits.MaxTextBytes));
        Assert.Equal("Review:Archives", ArchiveLimits.Section);
    }

    [Fact]
    public void Validate_InconsistentOrOutOfRangeLimits_AreErrors()
    {
        Assert.Contains("Review:Archives:MaxEntryBytes cannot exceed Review:Archives:MaxTotalBytes.", Errors(new ArchiveLimits { MaxEntryBytes = 2000, MaxTotalBytes = 1000 }));
        Assert.Contains("Review:Archives:MaxTextBytes cannot exceed Review:Archives:MaxEntryBytes.", Errors(new ArchiveLimits { MaxEntryBytes = 1000, MaxTextBytes = 2000 }));
        Assert.NotEmpty(Errors(new ArchiveLimits { MaxEntries = 0 }));
        Assert.NotEmpty(Errors(new ArchiveLimits { MaxCompressionRatio = 0 }));
    }
}
