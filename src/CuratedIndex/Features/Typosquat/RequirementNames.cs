using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Typosquat;

/// <summary>Project names from plain name lists or pip requirements files.</summary>
internal static class RequirementNames
{
    /// <summary>
    /// The project name of each requirement line, in order: comments, options (<c>-r</c>, <c>-e</c>, <c>--index-url</c>, …),
    /// URLs and local paths are skipped; extras, version specifiers and environment markers are cut off.
    /// </summary>
    public static IEnumerable<string> Read(TextReader reader)
    {
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            var name = Parse(line);
            if (name is not null)
            {
                yield return name;
            }
        }
    }

    public static string? Parse(string line)
    {
        // A comment starts at '#' at the beginning or after whitespace (pip's rule: "pkg#egg" is not a comment).
        var text = line.AsSpan();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '#' && (i == 0 || char.IsWhiteSpace(text[i - 1])))
            {
                text = text[..i];
                break;
            }
        }

        text = text.Trim().TrimEnd('\\').TrimEnd();
        if (text.IsEmpty || text[0] is '-' or '.' or '/')
        {
            return null;
        }

        var end = 0;
        while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '-' or '_' or '.'))
        {
            end++;
        }

        // "git+https://…" and "https://…" are URLs, not names ("name @ https://…" keeps its name).
        if (end < text.Length && text[end] is ':' or '+')
        {
            return null;
        }

        var name = text[..end].TrimEnd('.').ToString();
        return ProjectName.IsValid(name) ? ProjectName.Normalize(name) : null;
    }
}
