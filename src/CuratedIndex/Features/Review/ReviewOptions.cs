using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Review;

public sealed class ReviewOptions
{
    public const string Section = "Review";

    /// <summary>How often a node reads reviewer decisions made on other nodes. Decisions made on this node apply at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long reviewers' view of upstream evidence (summary, links, releases) may be cached.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan EvidenceMaxAge { get; set; } = TimeSpan.FromHours(1);
}
