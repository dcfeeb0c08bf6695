using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Review;

public sealed class ReviewOptions
{
    public const string Section = "Review";

    /// <summary>How often a node reads reviewer decisions made on other nodes. Decisions made on this node apply at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Demand counts each caller once per window and environment (an account, or for anonymous callers the client address,
    /// an IPv6 client by its /64): one client repeating a request cannot make a project, or a lookalike, look popular.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan DemandWindow { get; set; } = TimeSpan.FromHours(1);
}
