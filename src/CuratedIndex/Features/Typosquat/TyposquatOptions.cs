using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Typosquat;

/// <summary>Typosquat detection: which popular projects lookalikes are compared with.</summary>
public sealed class TyposquatOptions
{
    public const string Section = "Typosquat";

    /// <summary>
    /// The popular-projects corpus: <c>rank&lt;TAB&gt;name</c> lines, or the top-pypi-packages JSON format.
    /// A relative path is resolved against the content root.
    /// </summary>
    [Required]
    [MinLength(1)]
    public string CorpusPath { get; set; } = "config/top-pypi-projects.tsv";
}
