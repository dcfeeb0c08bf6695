namespace CuratedIndex.Features.Closure;

/// <summary>Dependency closures (section <c>Closure</c>).</summary>
public sealed class ClosureOptions
{
    public const string Section = "Closure";

    /// <summary>
    /// How long a computed closure is used before it is computed again (new releases upstream change which ones are
    /// newest). Lists such as the review queue show a stored closure of any age.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many pending review requests the <c>Closures</c> job computes per run, most requested first.</summary>
    public int MaxPerRun { get; set; } = 200;
}
