using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Review;

public sealed class ReviewOptions
{
    public const string Section = "Review";

    /// <summary>How often a node reads reviewer decisions made on other nodes. Decisions made on this node apply at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
