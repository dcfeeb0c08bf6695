using System.IO.Compression;
using System.Text;
using CuratedIndex.Features.Closure;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.Pep508;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.Features.Closure;

/// <summary>The walk itself, pure: choices, markers per target, extras, conflicts, over small indexes and real wheels' metadata.</summary>
public sealed class ClosureWalkerTests
{
    private static readonly PythonTarget Linux311 = Target("3.11 manylinux_2_28_x86_64");
    private static readonly PythonTarget Windows312 = Target("3.12 win_amd64");

    [Fact]
    public async Task ConflictingSpecifiers_AreReportedAsAConflict_NamingEachRequirementAndWhoMadeIt()
    {
        var index = new Index()
            .Release("app", "1.0", "lib>=1", "helper")
            .Release("helper", "1.0", "lib<1")
            .Release("lib", "0.9")
            .Release("lib", "1.2");

        var closure = await index.WalkAsync("app", "1.0", Linux311);

        var conflict = Assert.Single(closure.Problems);
        Assert.Equal(ClosureProblemKind.Conflict, conflict.Kind);
        Assert.Equal("lib", conflict.Project);
        Assert.Contains("app 1.0 requires lib>=1", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("helper 1.0 requires lib<1", conflict.Message, StringComparison.Ordinal);
        Assert.False(closure.IsComplete);
    }

    [Fact]
    public async Task ARequirementFoundLater_NarrowsAnEarlierChoice_AndTheWalkSettlesOnTheReleaseThatFitsBoth()
    {
        var index = new Index()
            .Release("app", "1.0", "lib", "helper")
            .Release("helper", "1.0", "lib<2")
            .Release("lib", "1.0", "old-dep")
            .Release("lib", "2.0", "new-dep")
            .Release("old-dep", "1.0")
            .Release("new-dep", "1.0");

        var closure = await index.WalkAsync("app", "1.0", Linux311);

        Assert.True(closure.IsComplete, string.Join("; ", closure.Problems.Select(p => p.Message)));
        // lib 2.0 was the first choice; helper's lib<2 made it 1.0, and 2.0's dependency went with it.
        Assert.Equal(["app 1.0", "helper 1.0", "lib 1.0", "old-dep 1.0"], Names(closure));
        Assert.Equal(2, closure.Members.Single(m => m.Project == "lib").RequiredBy.Count);
    }

    [Fact]
    public async Task MarkersAreEvaluatedPerTarget_AndEachMemberSaysWhichTargetsNeedIt()
    {
        var index = new Index()
            .Release("app", "1.0", "colorama; sys_platform == \"win32\"", "uvloop; sys_platform != \"win32\"", "tomli; python_version < \"3.11\"")
            .Release("colorama", "0.4.6")
            .Release("uvloop", "0.19.0")
            .Release("tomli", "2.0.1");

        var closure = await index.WalkAsync("app", "1.0", Linux311, Windows312);

        Assert.Equal(["app 1.0", "colorama 0.4.6", "uvloop 0.19.0"], Names(closure));
        Assert.Equal(["3.12 win_amd64"], closure.Members.Single(m => m.Project == "colorama").Targets);
        Assert.Equal(["3.11 manylinux_2_28_x86_64"], closure.Members.Single(m => m.Project == "uvloop").Targets);
        Assert.Equal(2, closure.Members.Single(m => m.Project == "app").Targets.Count);
    }

    [Fact]
    public async Task Extras_PullInOnlyWhatTheyName_AndExtrasAskedOfADependencyAreHonoured()
    {
        var index = new Index()
            .Release("app", "1.0", "web[async]", "click; extra == \"cli\"")
            .Release("web", "2.0", "anyio; extra == 'async'", "jinja2; extra == 'templates'")
            .Release("click", "8.1.7")
            .Release("anyio", "4.0")
            .Release("jinja2", "3.1.4");

        var plain = await index.WalkAsync("app", "1.0", [], Linux311);
        var withCli = await index.WalkAsync("app", "1.0", ["cli"], Linux311);

        Assert.Equal(["app 1.0", "web 2.0", "anyio 4.0"], Names(plain));
        Assert.Equal(["app 1.0", "click 8.1.7", "web 2.0", "anyio 4.0"], Names(withCli));
    }

    [Fact]
    public async Task RequiresPython_AndWheelTags_DecideTheReleaseOnEachTarget()
    {
        var index = new Index()
            .Release("app", "1.0", "numpy")
            .Release("numpy", "1.26.4", requiresPython: ">=3.9")
            .Release("numpy", "2.3.0", requiresPython: ">=3.12")
            .Release("winonly", "1.0", filename: "winonly-1.0-cp312-cp312-win_amd64.whl");

        var closure = await index.WalkAsync("app", "1.0", Linux311, Windows312);

        Assert.Equal(["3.11 manylinux_2_28_x86_64"], closure.Members.Single(m => m.Project == "numpy" && m.Version == "1.26.4").Targets);
        Assert.Equal(["3.12 win_amd64"], closure.Members.Single(m => m.Project == "numpy" && m.Version == "2.3.0").Targets);
        Assert.True(ClosureWalker.InstallableFile(index.Releases("winonly")[0], Windows312) is not null);
        Assert.Null(ClosureWalker.InstallableFile(index.Releases("winonly")[0], Linux311));
    }

    [Fact]
    public async Task WithoutAVersion_EachTargetTakesTheNewestRootItCanInstall()
    {
        var index = new Index()
            .Release("app", "1.0", requiresPython: ">=3.9", requires: "old-helper")
            .Release("app", "2.0", requiresPython: ">=3.12", requires: "new-helper")
            .Release("old-helper", "1.0")
            .Release("new-helper", "1.0");

        var closure = await index.WalkNewestAsync("app", Linux311, Windows312);

        Assert.Equal("2.0", closure.Version);
        Assert.True(closure.IsComplete, string.Join("; ", closure.Problems.Select(p => p.Message)));
        Assert.Equal(["3.11 manylinux_2_28_x86_64"], closure.Members.Single(m => m.Project == "app" && m.Version == "1.0").Targets);
        Assert.Equal(["3.12 win_amd64"], closure.Members.Single(m => m.Project == "app" && m.Version == "2.0").Targets);
        Assert.Equal(["3.11 manylinux_2_28_x86_64"], closure.Members.Single(m => m.Project == "old-helper").Targets);
    }

    [Fact]
    public async Task RequiresPythonFoundOnlyInTheMetadata_RulesTheReleaseOut_AsPipDoes()
    {
        var index = new Index()
            .Release("app", "1.0", "lib")
            .Release("lib", "1.0")
            .Release("lib", "2.0", "needs-new-python");
        index.MetadataRequiresPython("lib-2.0-py3-none-any.whl", ">=3.12");

        var closure = await index.WalkAsync("app", "1.0", Linux311);

        Assert.True(closure.IsComplete, string.Join("; ", closure.Problems.Select(p => p.Message)));
        Assert.Equal(["app 1.0", "lib 1.0"], Names(closure));
    }

    [Fact]
    public async Task ACycleThatExcludesTheRootsRelease_IsAConflict()
    {
        var index = new Index()
            .Release("app", "2.0", "plugin")
            .Release("plugin", "1.0", "app<2");

        var closure = await index.WalkAsync("app", "2.0", Linux311);

        var conflict = Assert.Single(closure.Problems);
        Assert.Equal((ClosureProblemKind.Conflict, "app"), (conflict.Kind, conflict.Project));
        Assert.Contains("plugin 1.0 requires app<2", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Choose_SkipsYankedAndPreReleases_UnlessPinnedOrNamed()
    {
        var index = new Index()
            .Release("lib", "1.0")
            .Release("lib", "1.1", yanked: true)
            .Release("lib", "2.0b1");
        var releases = index.Releases("lib");

        Assert.Equal("1.0", ClosureWalker.Choose(releases, [], Linux311)!.Version);
        Assert.Equal("1.1", ClosureWalker.Choose(releases, [VersionSpecifierSet.Parse("==1.1")], Linux311)!.Version);
        Assert.Equal("2.0b1", ClosureWalker.Choose(releases, [VersionSpecifierSet.Parse(">=2.0b1")], Linux311)!.Version);
        Assert.Null(ClosureWalker.Choose(releases, [VersionSpecifierSet.Parse(">=3")], Linux311));
    }

    [Fact]
    public async Task DirectReferences_AndUnparseableRequirements_AreProblems_NotGuesses()
    {
        var index = new Index()
            .Release("app", "1.0", "evil @ https://example.invalid/evil.whl", "broken (>=", "ok")
            .Release("ok", "1.0");

        var closure = await index.WalkAsync("app", "1.0", Linux311);

        Assert.Equal(["app 1.0", "ok 1.0"], Names(closure));
        Assert.Equal(2, closure.Problems.Count(p => p.Kind == ClosureProblemKind.Requirement));
        Assert.Contains(closure.Problems, p => p.Message.Contains("direct reference", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMissingProject_IsNamed_AndTheRestOfTheTreeIsStillWalked()
    {
        var index = new Index().Release("app", "1.0", "ghost>=1", "ok").Release("ok", "1.0");

        var closure = await index.WalkAsync("app", "1.0", Linux311);

        var missing = Assert.Single(closure.Problems);
        Assert.Equal(ClosureProblemKind.NotFound, missing.Kind);
        Assert.Equal("ghost", missing.Project);
        Assert.Equal(["app 1.0", "ok 1.0"], Names(closure));
    }

    [Fact]
    public async Task RealMetadata_Pytest350_OnLinuxAndWindows_ColoramaOnlyOnWindows_FuncsigsNowhere()
    {
        var index = new Index();
        foreach (var path in Directory.GetFiles(FakePyPI.FixturePath("closure")).Concat(Directory.GetFiles(FakePyPI.FixturePath("dists"))))
        {
            index.Wheel(path);
        }

        index.Release("colorama", "0.4.6");
        var closure = await index.WalkAsync("pytest", "3.5.0", Linux311, Windows312);

        Assert.True(closure.IsComplete, string.Join("; ", closure.Problems.Select(p => p.Message)));
        Assert.Equal(["pytest 3.5.0", "attrs 17.4.0", "colorama 0.4.6", "more-itertools 4.1.0", "pluggy 0.6.0", "py 1.5.3", "setuptools 67.6.1", "six 1.17.0"], Names(closure));
        Assert.Equal(["3.12 win_amd64"], closure.Members.Single(m => m.Project == "colorama").Targets);
        Assert.Equal("colorama; sys_platform == \"win32\"", closure.Members.Single(m => m.Project == "colorama").RequiredBy.Single().Requirement);
    }

    private static List<string> Names(DependencyClosure closure) => closure.Members.Select(m => $"{m.Project} {m.Version}").ToList();

    private static PythonTarget Target(string text) =>
        PythonTarget.TryParse(text, out var target, out var error) ? target : throw new InvalidOperationException(error);

    /// <summary>A small index in memory: releases with one wheel each, whose metadata is the Requires-Dist given.</summary>
    private sealed class Index : IClosureSources
    {
        private readonly Dictionary<string, List<ReleaseCandidate>> _releases = new(StringComparer.Ordinal);
        private readonly Dictionary<string, IReadOnlyList<string>> _requires = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _metadataPython = new(StringComparer.Ordinal);

        /// <summary>The wheel's metadata says Requires-Python; the index's listing does not.</summary>
        public void MetadataRequiresPython(string filename, string specifier) => _metadataPython[filename] = specifier;

        public Index Release(string project, string version, params string[] requires) => Release(project, version, null, false, null, requires);

        public Index Release(string project, string version, string? requiresPython = null, bool yanked = false, string? filename = null, params string[] requires)
        {
            filename ??= $"{project.Replace('-', '_')}-{version}-py3-none-any.whl";
            var file = new DistributionFile
            {
                Filename = filename,
                Url = $"https://files.example/{filename}",
                Hashes = new Dictionary<string, string> { ["sha256"] = new string('a', 64) },
                RequiresPython = requiresPython,
                IsYanked = yanked,
            };
            Add(project, version, file);
            _requires[filename] = requires;
            return this;
        }

        public void Wheel(string path)
        {
            var filename = Path.GetFileName(path);
            Assert.True(DistributionFilename.TryParse(filename, null, out var parsed), filename);
            using var zip = ZipFile.OpenRead(path);
            var entry = zip.Entries.Single(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal));
            using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
            Assert.True(CoreMetadata.TryParse(Encoding.UTF8.GetBytes(reader.ReadToEnd()), out var metadata, out var error), error);
            Add(parsed.Project, parsed.Version, new DistributionFile { Filename = filename, Url = $"https://files.example/{filename}", RequiresPython = metadata.RequiresPython });
            _requires[filename] = metadata.RequiresDist;
        }

        public List<ReleaseCandidate> Releases(string project) => _releases[project];

        public async Task<DependencyClosure> WalkNewestAsync(string project, params PythonTarget[] targets)
        {
            var releases = _releases[project];
            var root = targets.Select(t => ClosureWalker.Choose(releases, [], t)).OfType<ReleaseCandidate>().MaxBy(r => r.Parsed)!;
            var walk = await ClosureWalker.WalkAsync(project, root, [], targets, this, DateTime.UnixEpoch, CancellationToken.None, releases);
            return walk.Closure;
        }

        public async Task<DependencyClosure> WalkAsync(string project, string version, params PythonTarget[] targets) =>
            await WalkAsync(project, version, [], targets);

        public async Task<DependencyClosure> WalkAsync(string project, string version, IReadOnlyList<string> extras, params PythonTarget[] targets)
        {
            var root = _releases[project].Single(r => r.Version == version);
            var walk = await ClosureWalker.WalkAsync(project, root, extras, targets, this, DateTime.UnixEpoch, CancellationToken.None);
            return walk.Closure;
        }

        public Task<ProjectReleases> ReleasesAsync(string project, CancellationToken cancellationToken) =>
            Task.FromResult(_releases.TryGetValue(project, out var releases) ? new ProjectReleases(releases) : new ProjectReleases(null, ClosureProblemKind.NotFound, $"upstream has no project '{project}'"));

        public Task<FileDependencies> DependenciesAsync(string project, ReleaseCandidate release, DistributionFile file, CancellationToken cancellationToken) =>
            Task.FromResult(new FileDependencies(MetadataSources.Wheel, _requires[file.Filename], _metadataPython.GetValueOrDefault(file.Filename) ?? file.RequiresPython, null));

        private void Add(string project, string version, DistributionFile file)
        {
            if (!_releases.TryGetValue(project, out var list))
            {
                _releases[project] = list = [];
            }

            var existing = list.FirstOrDefault(r => r.Version == version);
            list.Remove(existing!);
            list.Add(new ReleaseCandidate(version, Pep440Version.Parse(version), [.. existing?.Files ?? [], file]));
            list.Sort((a, b) => b.Parsed.CompareTo(a.Parsed));
        }
    }
}
