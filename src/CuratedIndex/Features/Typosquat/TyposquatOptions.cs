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

    /// <summary>
    /// <see cref="CorpusPath"/> as a file: an absolute path as it is; a relative one against the content root (an
    /// operator's copy), else beside the executable, where <c>config/</c> is shipped.
    /// </summary>
    public string ResolveCorpusPath(string contentRoot)
    {
        if (Path.IsPathRooted(CorpusPath))
        {
            return CorpusPath;
        }

        var fromContentRoot = Path.Combine(contentRoot, CorpusPath);
        var beside = Path.Combine(AppContext.BaseDirectory, CorpusPath);
        return File.Exists(fromContentRoot) || !File.Exists(beside) ? fromContentRoot : beside;
    }
}
