using CuratedIndex.Protocol;
using CuratedIndex.Protocol.Pep508;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Features.Closure;

/// <summary>One release of a project as upstream lists it: the version (upstream's spelling, normalized) and its files.</summary>
public sealed record ReleaseCandidate(string Version, Pep440Version Parsed, IReadOnlyList<DistributionFile> Files);

/// <summary>A project's releases, newest first; or, when <see cref="Releases"/> is null, why there are none (<see cref="Problem"/>).</summary>
public sealed record ProjectReleases(IReadOnlyList<ReleaseCandidate>? Releases, ClosureProblemKind ProblemKind = ClosureProblemKind.NotFound, string? Problem = null, bool Transient = false)
{
    /// <summary>Groups a project page's files by release (PEP 440 versions only; other files cannot be matched), newest first.</summary>
    public static ProjectReleases Of(string project, ProjectPage page)
    {
        var releases = page.Files
            .Select(f => (File: f, Version: CuratedIndex.Features.Releases.ReleaseVettings.NormalizeVersion(SimpleIndex.SimplePageRenderer.VersionOf(project, f.Filename))))
            .Where(f => f.Version is not null)
            .GroupBy(f => f.Version!, StringComparer.Ordinal)
            .Select(g => Pep440Version.TryParse(g.Key, out var parsed) ? new ReleaseCandidate(g.Key, parsed, g.Select(f => f.File).ToList()) : null)
            .OfType<ReleaseCandidate>()
            .OrderByDescending(r => r.Parsed)
            .ToList();
        return new ProjectReleases(releases);
    }
}

/// <summary>The sources a walk reads: a project's releases, and the dependencies one file declares.</summary>
public interface IClosureSources
{
    Task<ProjectReleases> ReleasesAsync(string project, CancellationToken cancellationToken);

    Task<FileDependencies> DependenciesAsync(string project, ReleaseCandidate release, DistributionFile file, CancellationToken cancellationToken);
}

/// <summary>
/// Walks Requires-Dist from a root release, per target, the way pip's first pass would: markers evaluated for the target
/// and the extras asked of each project; for each dependency the newest release that satisfies every specifier collected
/// for it, admits the target's Python and has a file the target can install. A choice that a later requirement rules out
/// is made again in another pass with everything collected, until the choices settle; specifiers that admit no release
/// are reported as a conflict naming each requirement and who made it. Not a backtracking resolver.
/// </summary>
public static class ClosureWalker
{
    public const int MaxPasses = 8;

    /// <summary>The outcome of a walk: the closure, and whether a problem was transient (upstream failing: not worth caching).</summary>
    public sealed record WalkResult(DependencyClosure Closure, bool Transient);

    /// <param name="root">The root release; the closure's version.</param>
    /// <param name="rootReleases">
    /// When no version was asked for: the root's releases, from which each target takes the newest it can install (pip on
    /// Python 3.11 installs an older release than on 3.13 when the newest needs 3.12); null to walk <paramref name="root"/> everywhere.
    /// </param>
    public static async Task<WalkResult> WalkAsync(
        string project,
        ReleaseCandidate root,
        IReadOnlyList<string> extras,
        IReadOnlyList<PythonTarget> targets,
        IClosureSources sources,
        DateTime now,
        CancellationToken cancellationToken,
        IReadOnlyList<ReleaseCandidate>? rootReleases = null)
    {
        var members = new Dictionary<(string Project, string Version), MemberBuilder>();
        var problems = new Dictionary<(ClosureProblemKind, string, string), List<string>>();
        var transient = false;
        foreach (var target in targets)
        {
            var targetRoot = rootReleases is null ? root : Choose(rootReleases, [], target) ?? root;
            var walk = new TargetWalk(project, targetRoot, extras, target, sources);
            await walk.RunAsync(cancellationToken);
            transient |= walk.Transient;
            foreach (var (name, chosen) in walk.Chosen)
            {
                if (!members.TryGetValue((name, chosen.Release.Version), out var member))
                {
                    members[(name, chosen.Release.Version)] = member = new MemberBuilder(name, chosen.Release.Version, chosen.Depth, chosen.Source);
                }

                member.Targets.Add(target.Text);
                member.Depth = Math.Min(member.Depth, chosen.Depth);
                member.Source ??= chosen.Source;
                foreach (var edge in walk.EdgesTo(name))
                {
                    if (!member.RequiredBy.Contains(edge))
                    {
                        member.RequiredBy.Add(edge);
                    }
                }
            }

            foreach (var problem in walk.Problems)
            {
                var key = (problem.Kind, problem.Project, problem.Message);
                if (!problems.TryGetValue(key, out var on))
                {
                    problems[key] = on = [];
                }

                on.Add(target.Text);
            }
        }

        var ordered = members.Values
            .OrderBy(m => m.Depth)
            .ThenBy(m => m.Project, StringComparer.Ordinal)
            .ThenBy(m => m.Version, StringComparer.Ordinal)
            .Select(m => new ClosureMember(m.Project, m.Version, m.Targets, m.RequiredBy, m.Depth, m.Source))
            .ToList();
        var problemList = problems
            .Select(p => new ClosureProblem(p.Key.Item1, p.Key.Item2, p.Value.Count == targets.Count && targets.Count > 1 ? $"{p.Key.Item3} (every target)" : $"{p.Key.Item3} (on {string.Join(", ", p.Value)})"))
            .ToList();
        var closure = new DependencyClosure(project, root.Version, extras, targets.Select(t => t.Text).ToList(), ordered, problemList, now);
        return new WalkResult(closure, transient);
    }

    /// <summary>
    /// The release pip would most likely pick among <paramref name="releases"/> (newest first) on <paramref name="target"/>:
    /// the newest that every specifier admits, whose Requires-Python admits the target and which has a file for it. Final
    /// releases first; pre-releases only when a specifier names one or no final release fits. A yanked release only when
    /// an <c>==</c> pins it (PEP 592).
    /// </summary>
    public static ReleaseCandidate? Choose(IReadOnlyList<ReleaseCandidate> releases, IReadOnlyList<VersionSpecifierSet> specifiers, PythonTarget target)
    {
        ReleaseCandidate? prerelease = null;
        var pinned = specifiers.Any(s => s.ExactVersion is not null);
        foreach (var release in releases)
        {
            if (!specifiers.All(s => s.Contains(release.Parsed, includePrereleases: true)) || InstallableFile(release, target, pinned) is null)
            {
                continue;
            }

            if (!release.Parsed.IsPrerelease)
            {
                return release;
            }

            if (specifiers.Any(s => s.Contains(release.Parsed)))
            {
                // A specifier that names a pre-release admits pre-releases (PEP 440).
                return release;
            }

            prerelease ??= release;
        }

        return prerelease;
    }

    /// <summary>
    /// The file the target's dependencies are read from: a compatible wheel (one with PEP 658 metadata first), else a
    /// compatible sdist; null when the release has none for the target or its Requires-Python excludes it.
    /// </summary>
    public static DistributionFile? InstallableFile(ReleaseCandidate release, PythonTarget target, bool yankedAllowed = false)
    {
        DistributionFile? best = null;
        var bestRank = int.MaxValue;
        foreach (var file in release.Files)
        {
            if ((file.IsYanked && !yankedAllowed) || !target.AdmitsPython(file.RequiresPython) || !DistributionFilename.TryParse(file.Filename, null, out var parsed) || !target.IsCompatible(parsed))
            {
                continue;
            }

            var rank = parsed.Kind == DistributionKind.Wheel ? (file.CoreMetadata is not null ? 0 : 1) : parsed.Kind == DistributionKind.Sdist ? 2 : 3;
            if (rank < bestRank || (rank == bestRank && string.CompareOrdinal(file.Filename, best!.Filename) < 0))
            {
                (best, bestRank) = (file, rank);
            }
        }

        return bestRank <= 2 ? best : null;
    }

    private sealed class MemberBuilder(string project, string version, int depth, string? source)
    {
        public string Project { get; } = project;
        public string Version { get; } = version;
        public int Depth { get; set; } = depth;
        public string? Source { get; set; } = source;
        public List<string> Targets { get; } = [];
        public List<ClosureEdge> RequiredBy { get; } = [];
    }

    private sealed record Chosen(ReleaseCandidate Release, int Depth, string? Source);

    private sealed record Constraint(Requirement Requirement, ClosureEdge From);

    // One target's walk: passes until the requirements collected stop changing.
    private sealed class TargetWalk(string rootProject, ReleaseCandidate root, IReadOnlyList<string> rootExtras, PythonTarget target, IClosureSources sources)
    {
        private readonly Dictionary<string, ProjectReleases> _releases = new(StringComparer.Ordinal);

        // Releases whose metadata's Requires-Python excludes this target (the index did not say so): never chosen here.
        private readonly HashSet<(string Project, string Version)> _excluded = [];
        private Dictionary<string, List<Constraint>> _constraints = new(StringComparer.Ordinal);

        public Dictionary<string, Chosen> Chosen { get; private set; } = new(StringComparer.Ordinal);

        public List<ClosureProblem> Problems { get; private set; } = [];

        public bool Transient { get; private set; }

        public IEnumerable<ClosureEdge> EdgesTo(string project) =>
            _constraints.TryGetValue(project, out var constraints) ? constraints.Select(c => c.From) : [];

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var previous = new Dictionary<string, List<Constraint>>(StringComparer.Ordinal);
            for (var pass = 0; pass < MaxPasses; pass++)
            {
                await PassAsync(previous, cancellationToken);
                if (SameRequirements(previous, _constraints))
                {
                    return;
                }

                previous = _constraints;
            }

            Problems.Add(new ClosureProblem(ClosureProblemKind.Conflict, rootProject, $"the choices did not settle after {MaxPasses} passes: requirements keep changing which releases fit"));
        }

        private async Task PassAsync(Dictionary<string, List<Constraint>> previous, CancellationToken cancellationToken)
        {
            _constraints = new Dictionary<string, List<Constraint>>(StringComparer.Ordinal);
            Chosen = new Dictionary<string, Chosen>(StringComparer.Ordinal);
            Problems = [];
            var extras = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal) { [rootProject] = [.. rootExtras] };
            var walked = new Dictionary<string, int>(StringComparer.Ordinal);
            var depth = new Dictionary<string, int>(StringComparer.Ordinal) { [rootProject] = 0 };
            var queue = new Queue<string>();
            queue.Enqueue(rootProject);
            while (queue.TryDequeue(out var project))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var wanted = extras.GetValueOrDefault(project) ?? [];
                if (walked.TryGetValue(project, out var walkedExtras) && walkedExtras == wanted.Count)
                {
                    continue;
                }

                walked[project] = wanted.Count;
                if (Chosen.Count >= DependencyClosure.MaxMembers && !Chosen.ContainsKey(project))
                {
                    Problems.Add(new ClosureProblem(ClosureProblemKind.TooLarge, project, $"the closure has more than {DependencyClosure.MaxMembers} projects; '{project}' and what it needs are left out"));
                    return;
                }

                var release = project == rootProject ? RootRelease() : await ChooseAsync(project, previous, cancellationToken);
                if (release is null)
                {
                    continue;
                }

                // The file pip would take: a yanked one only where nothing else fits (a release pinned by ==, PEP 592).
                var file = InstallableFile(release, target) ?? InstallableFile(release, target, yankedAllowed: true)!;
                var dependencies = await sources.DependenciesAsync(project, release, file, cancellationToken);
                if (dependencies.Problem is null && !target.AdmitsPython(dependencies.RequiresPython))
                {
                    // The index did not say, the metadata does: pip rejects this release here and takes an older one.
                    if (project == rootProject)
                    {
                        Problems.Add(new ClosureProblem(ClosureProblemKind.NoRelease, project, $"{project} {release.Version} requires Python {dependencies.RequiresPython} (its metadata), which this target is not"));
                        continue;
                    }

                    _excluded.Add((project, release.Version));
                    walked.Remove(project);
                    queue.Enqueue(project);
                    continue;
                }

                Chosen[project] = new Chosen(release, depth[project], dependencies.Source);
                if (dependencies.Problem is not null)
                {
                    Transient |= dependencies.Transient;
                    Problems.Add(new ClosureProblem(ClosureProblemKind.Metadata, project, $"{project} {release.Version}: {dependencies.Problem}"));
                    continue;
                }

                foreach (var line in dependencies.RequiresDist)
                {
                    if (!Requirement.TryParse(line, out var requirement, out var error))
                    {
                        Problems.Add(new ClosureProblem(ClosureProblemKind.Requirement, project, $"{project} {release.Version}: Requires-Dist '{Printable(line)}' does not parse: {error}"));
                        continue;
                    }

                    if (!requirement.AppliesTo(target.Markers, wanted))
                    {
                        continue;
                    }

                    if (requirement.Url is not null)
                    {
                        Problems.Add(new ClosureProblem(ClosureProblemKind.Requirement, requirement.Project, $"{project} {release.Version} requires '{Printable(line)}', a direct reference no index can serve"));
                        continue;
                    }

                    var dependency = requirement.Project;
                    if (!_constraints.TryGetValue(dependency, out var list))
                    {
                        _constraints[dependency] = list = [];
                    }

                    var edge = new ClosureEdge(project, release.Version, requirement.Text);
                    if (!list.Any(c => c.From == edge))
                    {
                        list.Add(new Constraint(requirement, edge));
                    }

                    if (!extras.TryGetValue(dependency, out var dependencyExtras))
                    {
                        extras[dependency] = dependencyExtras = [];
                    }

                    dependencyExtras.UnionWith(requirement.Extras);
                    depth.TryAdd(dependency, depth[project] + 1);
                    if (!walked.TryGetValue(dependency, out var seenExtras) || seenExtras != dependencyExtras.Count)
                    {
                        queue.Enqueue(dependency);
                    }
                }
            }

            // A dependency that requires the root (a cycle) with a specifier the root's release does not satisfy.
            var onRoot = _constraints.GetValueOrDefault(rootProject) ?? [];
            if (onRoot.Where(c => !c.Requirement.Specifier.Contains(root.Parsed, includePrereleases: true)).ToList() is { Count: > 0 } excluding)
            {
                Problems.Add(new ClosureProblem(ClosureProblemKind.Conflict, rootProject, $"{rootProject} {root.Version} is required in a cycle with versions it does not have: {string.Join("; ", excluding.Select(c => $"{c.From.Project} {c.From.Version} requires {c.Requirement.Text}"))}"));
            }
        }

        // The root release was chosen by the caller; on a target that cannot install it, it is reported and walked no further.
        private ReleaseCandidate? RootRelease()
        {
            if (InstallableFile(root, target, yankedAllowed: true) is null)
            {
                Problems.Add(new ClosureProblem(ClosureProblemKind.NoRelease, rootProject, $"{rootProject} {root.Version} has no file this target can install (Requires-Python or wheel tags)"));
                return null;
            }

            return root;
        }

        private async Task<ReleaseCandidate?> ChooseAsync(string project, Dictionary<string, List<Constraint>> previous, CancellationToken cancellationToken)
        {
            if (!_releases.TryGetValue(project, out var releases))
            {
                _releases[project] = releases = await sources.ReleasesAsync(project, cancellationToken);
            }

            if (releases.Releases is null)
            {
                Transient |= releases.Transient;
                Problems.Add(new ClosureProblem(releases.ProblemKind, project, releases.Problem ?? $"upstream has no project '{project}'"));
                return null;
            }

            // What this pass collected so far, and what the previous pass collected from requirers walked after this point.
            var constraints = (_constraints.GetValueOrDefault(project) ?? [])
                .Concat((previous.GetValueOrDefault(project) ?? []).Where(p => !(_constraints.GetValueOrDefault(project) ?? []).Any(c => c.From == p.From)))
                .ToList();
            var candidates = _excluded.Count == 0 ? releases.Releases : releases.Releases.Where(r => !_excluded.Contains((project, r.Version))).ToList();
            var chosen = Choose(candidates, constraints.Select(c => c.Requirement.Specifier).ToList(), target);
            if (chosen is not null)
            {
                return chosen;
            }

            Problems.Add(Unsatisfiable(project, candidates, constraints));
            return null;
        }

        private ClosureProblem Unsatisfiable(string project, IReadOnlyList<ReleaseCandidate> releases, List<Constraint> constraints)
        {
            var who = string.Join("; ", constraints.Select(c => $"{c.From.Project} {c.From.Version} requires {c.Requirement.Text}"));
            var eachAlone = constraints.All(c => Choose(releases, [c.Requirement.Specifier], target) is not null);
            return eachAlone && constraints.Count > 1
                ? new ClosureProblem(ClosureProblemKind.Conflict, project, $"{project}: no release satisfies every requirement together: {who}")
                : new ClosureProblem(ClosureProblemKind.NoRelease, project, releases.Count == 0
                    ? $"{project}: upstream lists no release"
                    : $"{project}: no release fits this target ({who}; newest upstream {releases[0].Version})");
        }

        private static bool SameRequirements(Dictionary<string, List<Constraint>> a, Dictionary<string, List<Constraint>> b) =>
            a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var other) && other.Count == p.Value.Count && p.Value.All(c => other.Any(o => o.From == c.From)));

        private static string Printable(string text) => Review.ReviewApi.Printable(text);
    }
}
