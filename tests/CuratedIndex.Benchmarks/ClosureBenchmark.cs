using System.Globalization;
using BenchmarkDotNet.Attributes;
using CuratedIndex.Features.Closure;
using CuratedIndex.Protocol.Pep508;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Benchmarks;

/// <summary>
/// A dependency closure of 100 projects whose pages and metadata are cached (what ClosureService does once both are in
/// memory): each project has 10 releases of one wheel with PEP 658 metadata and three to five Requires-Dist lines with
/// specifiers and markers, grouped from the page on every lookup as in the product. Baseline: one target; the product's
/// default is four. Target: well under a second.
/// </summary>
[MemoryDiagnoser]
public class ClosureBenchmark
{
    public const int Projects = 100;
    private const int ReleasesPerProject = 10;

    private readonly Dictionary<string, ProjectPage> _pages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileDependencies> _metadata = new(StringComparer.Ordinal);
    private PythonTarget[] _defaultTargets = [];
    private PythonTarget[] _oneTarget = [];
    private ReleaseCandidate _root = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < Projects; i++)
        {
            var project = Name(i);
            var files = new List<DistributionFile>();
            for (var r = 0; r < ReleasesPerProject; r++)
            {
                var version = $"1.{r}.0";
                var filename = $"{project.Replace('-', '_')}-{version}-py3-none-any.whl";
                files.Add(new DistributionFile
                {
                    Filename = filename,
                    Url = $"https://files.example/{filename}",
                    Hashes = new Dictionary<string, string> { ["sha256"] = $"{i:x4}{r:x4}".PadRight(64, '0') },
                    CoreMetadata = new Dictionary<string, string> { ["sha256"] = new string('b', 64) },
                    RequiresPython = ">=3.9",
                });
                _metadata[filename] = new FileDependencies(MetadataSources.Pep658, Requires(i, r), ">=3.9", null);
            }

            _pages[project] = new ProjectPage { Name = project, Files = files };
        }

        _defaultTargets = PythonTarget.Default.Select(Parse).ToArray();
        _oneTarget = [Parse("3.12 manylinux_2_28_x86_64")];
        _root = ProjectReleases.Of(Name(0), _pages[Name(0)]).Releases![0];
        var closure = Walk(_defaultTargets);
        if (closure.Members.Select(m => m.Project).Distinct().Count() != Projects || !closure.IsComplete)
        {
            throw new InvalidOperationException($"the benchmark closure has {closure.Members.Count} members and {closure.Problems.Count} problems, not {Projects} and none");
        }
    }

    [Benchmark(Baseline = true)]
    public DependencyClosure OneTarget() => Walk(_oneTarget);

    [Benchmark]
    public DependencyClosure DefaultTargets() => Walk(_defaultTargets);

    private DependencyClosure Walk(PythonTarget[] targets) =>
        ClosureWalker.WalkAsync(Name(0), _root, [], targets, new MemorySources(_pages, _metadata), DateTime.UnixEpoch, CancellationToken.None).GetAwaiter().GetResult().Closure;

    // Project i needs the next one (so all 100 are reached), two further ones with version ranges, one only before
    // Python 3.12, one only on Windows and one only with an extra nobody asks for.
    private static List<string> Requires(int i, int release)
    {
        var lines = new List<string>();
        if (i + 1 < Projects)
        {
            lines.Add($"{Name(i + 1)}>=1.{release % 3}");
        }

        if (i + 3 < Projects)
        {
            lines.Add($"{Name(i + 3)} (>=1.0,<1.{8 + (i % 2)})");
        }

        if (i + 7 < Projects)
        {
            lines.Add($"{Name(i + 7)}!=1.5.0; python_version < \"3.12\"");
        }

        lines.Add($"{Name((i + 11) % Projects)}; sys_platform == \"win32\"");
        lines.Add($"{Name((i + 13) % Projects)}[speed]>=1.1; extra == \"docs\"");
        return lines;
    }

    private static string Name(int i) => "project-" + i.ToString("000", CultureInfo.InvariantCulture);

    private static PythonTarget Parse(string text) =>
        PythonTarget.TryParse(text, out var target, out var error) ? target : throw new InvalidOperationException(error);

    private sealed class MemorySources(Dictionary<string, ProjectPage> pages, Dictionary<string, FileDependencies> metadata) : IClosureSources
    {
        public Task<ProjectReleases> ReleasesAsync(string project, CancellationToken cancellationToken) =>
            Task.FromResult(ProjectReleases.Of(project, pages[project]));

        public Task<FileDependencies> DependenciesAsync(string project, ReleaseCandidate release, DistributionFile file, CancellationToken cancellationToken) =>
            Task.FromResult(metadata[file.Filename]);
    }
}
