using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Closure;

/// <summary>Dependency closures (section <c>Closure</c>).</summary>
public sealed class ClosureOptions
{
    public const string Section = "Closure";

    /// <summary>
    /// How long a computed closure is used before it is computed again (new releases upstream change which ones are
    /// newest). Lists such as the review queue show a stored closure of any age.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many pending review requests the <c>Closures</c> job computes per run, most requested first.</summary>
    [Range(1, 100_000)]
    public int MaxPerRun { get; set; } = 200;
}
