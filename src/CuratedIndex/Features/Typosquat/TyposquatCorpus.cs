using System.Text.Json;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Typosquat;

/// <summary>A popular project and its download rank (1 = most downloaded).</summary>
internal readonly record struct PopularProject(string Name, int Rank);

/// <summary>
/// The popular projects that lookalikes imitate, most popular first, names PEP 503 normalized. Read from the
/// shipped <c>config/top-pypi-projects.tsv</c> (<c>rank&lt;TAB&gt;name</c>, header optional) or from the widely
/// used top-pypi-packages JSON (<c>{"rows": [{"project": "…", "download_count": N}, …]}</c>).
/// </summary>
internal sealed class TyposquatCorpus
{
    private TyposquatCorpus(IReadOnlyList<PopularProject> projects) => Projects = projects;

    public IReadOnlyList<PopularProject> Projects { get; }

    public static TyposquatCorpus From(IEnumerable<PopularProject> projects)
    {
        // The first occurrence of a name keeps its rank: the best rank wins when spellings normalize alike.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<PopularProject>();
        foreach (var project in projects.OrderBy(p => p.Rank))
        {
            if (ProjectName.IsValid(project.Name) && seen.Add(ProjectName.Normalize(project.Name)))
            {
                list.Add(project with { Name = ProjectName.Normalize(project.Name) });
            }
        }

        return new TyposquatCorpus(list);
    }

    /// <summary>Reads a corpus file; the format is chosen by content (a JSON document starts with '{').</summary>
    public static TyposquatCorpus Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static TyposquatCorpus Read(Stream stream, string source)
    {
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        return text.TrimStart().StartsWith('{') ? FromJson(text, source) : FromTsv(text, source);
    }

    private static TyposquatCorpus FromTsv(string text, string source)
    {
        var projects = new List<PopularProject>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t');
            if (fields.Length < 2 || !int.TryParse(fields[0], out var rank) || rank < 1)
            {
                // The header line ("rank<TAB>name") is the one non-numeric line allowed.
                if (projects.Count == 0 && lineNumber == 1)
                {
                    continue;
                }

                throw new FormatException($"{source}:{lineNumber}: expected 'rank<TAB>name'");
            }

            projects.Add(new PopularProject(fields[1].Trim(), rank));
        }

        return From(projects);
    }

    private static TyposquatCorpus FromJson(string text, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (!document.RootElement.TryGetProperty("rows", out var rows) || rows.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"{source}: expected {{\"rows\": [{{\"project\": …, \"download_count\": …}}]}}");
            }

            var entries = new List<(string Name, long Downloads, int Position)>();
            foreach (var row in rows.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Object || !row.TryGetProperty("project", out var project) || project.ValueKind != JsonValueKind.String)
                {
                    throw new FormatException($"{source}: row {entries.Count + 1} has no \"project\" string");
                }

                var downloads = row.TryGetProperty("download_count", out var count) && count.TryGetInt64(out var n) ? n : 0;
                entries.Add((project.GetString()!, downloads, entries.Count));
            }

            // Rank by downloads; the file's order breaks ties (it is already sorted when it comes from the published list).
            var ranked = entries.OrderByDescending(e => e.Downloads).ThenBy(e => e.Position).Select((e, i) => new PopularProject(e.Name, i + 1));
            return From(ranked);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: {e.Message}", e);
        }
    }
}
