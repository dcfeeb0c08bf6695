namespace CuratedIndex.Benchmarks;

internal static class Paths
{
    /// <summary>The repository root: the nearest ancestor of the working directory or the binary holding CuratedIndex.sln.</summary>
    public static string Repository { get; } = FindRepository();

    public static string Corpus => Path.Combine(Repository, "config", "top-pypi-projects.tsv");

    public static string Provenance => Path.Combine(Repository, "tests", "CuratedIndex.Tests", "Fixtures", "provenance");

    public static string Labelled => Path.Combine(Repository, "tests", "CuratedIndex.Tests", "Fixtures", "typosquats", "labelled.tsv");

    /// <summary>All live PyPI names: shared/data beside the repository, else /work/shared/data (as tests/bench does).</summary>
    public static string AllNames
    {
        get
        {
            var beside = Path.GetFullPath(Path.Combine(Repository, "..", "shared", "data", "pypi-project-names.txt.gz"));
            return File.Exists(beside) ? beside : "/work/shared/data/pypi-project-names.txt.gz";
        }
    }

    private static string FindRepository()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CuratedIndex.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("run from inside the repository: CuratedIndex.sln not found");
    }
}
