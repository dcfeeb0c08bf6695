using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases.Cli;

/// <summary>A file of a version as the environment shows it (from <c>GET projects/{name}/versions</c>).</summary>
public sealed record ShownFile(string Filename, string? Sha256, bool Yanked, bool Served, string Rule, string Reason);

/// <summary>A version as the environment shows it.</summary>
public sealed record ShownVersion(Pep440Version Version, bool Visible, string Rule, string Reason, IReadOnlyList<ShownFile> Files)
{
    /// <summary>What pip takes for a range: a served file that is not yanked (PEP 592).</summary>
    public bool InstallsForRange => Visible && Files.Any(f => f.Served && !f.Yanked);
}

/// <summary>A project as the environment shows it; <see cref="Problem"/> set when the server could not tell (upstream down).</summary>
public sealed record ShownProject(string Name, bool Visible, string Rule, string Reason, IReadOnlyList<ShownVersion> Versions, string? Problem = null)
{
    public static ShownProject From(string name, JsonNode json) => new(
        name,
        json["visible"]!.GetValue<bool>(),
        json["rule"]!.GetValue<string>(),
        json["reason"]!.GetValue<string>(),
        json["versions"]!.AsArray().Select(v => new ShownVersion(
            Pep440Version.Parse(v!["version"]!.GetValue<string>()),
            v["visible"]!.GetValue<bool>(),
            v["rule"]!.GetValue<string>(),
            v["reason"]!.GetValue<string>(),
            v["files"]!.AsArray().Select(f => new ShownFile(
                f!["filename"]!.GetValue<string>(),
                f["sha256"]?.GetValue<string>(),
                f["yanked"]!.GetValue<bool>(),
                f["served"]!.GetValue<bool>(),
                f["rule"]!.GetValue<string>(),
                f["reason"]!.GetValue<string>())).ToList())).ToList());
}

/// <summary>
/// <c>curated-index check -r FILE --env ENV</c>: would every requirement of a lock file install from that environment?
/// One line per requirement that would not (what the environment shows and why, from the decision function), and for
/// each range the version it would install. Exit 0 when all would install, 1 when any would not, 2 when it cannot tell.
/// </summary>
public static class CheckCommand
{
    public static async Task<int> RunAsync(ServerClient client, IReadOnlyList<string> files, string environment, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (LockFiles.Read(files, error) is not { } requirements)
        {
            return 2;
        }

        var shown = new Dictionary<string, ShownProject>(StringComparer.Ordinal);
        var misses = 0;
        var installing = requirements.Where(r => !r.IsConstraint).ToList();
        foreach (var requirement in installing)
        {
            if (!shown.TryGetValue(requirement.Name, out var project))
            {
                shown[requirement.Name] = project = await ShowAsync(client, environment, requirement.Name, cancellationToken);
            }

            var (miss, line) = Judge(environment, requirement, project);
            misses += miss ? 1 : 0;
            if (line is not null)
            {
                await output.WriteLineAsync($"{requirement.Location}: {requirement.Text}: {line}");
            }
        }

        await output.WriteLineAsync(misses == 0
            ? $"{environment}: all {installing.Count} requirements would install"
            : $"{environment}: {misses} of {installing.Count} requirements would not install");
        return misses == 0 ? 0 : 1;
    }

    /// <summary>The environment's view of one project; an unknown environment or a refused name stops the command.</summary>
    public static async Task<ShownProject> ShowAsync(ServerClient client, string environment, string project, CancellationToken cancellationToken)
    {
        var answer = await client.GetAsync($"projects/{Uri.EscapeDataString(project)}/versions?env={Uri.EscapeDataString(environment)}", cancellationToken);
        return answer.Status switch
        {
            HttpStatusCode.OK => ShownProject.From(project, answer.Json!),
            HttpStatusCode.BadGateway => new ShownProject(project, false, "upstream-unavailable", answer.Message, [], answer.Message),
            // The one 404 here is an environment the server does not have: it concerns every line, not this project.
            HttpStatusCode.NotFound => throw new ServerClientException(answer.Message),
            _ => throw new ServerClientException($"{project}: {answer.Message}"),
        };
    }

    /// <summary>Whether a requirement misses, and the line to print (null for a pin that installs). Pure.</summary>
    public static (bool Miss, string? Line) Judge(string environment, LockFileRequirement requirement, ShownProject project)
    {
        var name = requirement.Name;
        if (project.Problem is not null)
        {
            return (true, $"cannot tell what {environment} shows: {project.Problem}");
        }

        if (!project.Visible)
        {
            return (true, $"{environment} shows no {name}: {project.Reason}");
        }

        if (requirement.PinnedVersion is { } pinned)
        {
            return JudgePin(environment, requirement, project, pinned);
        }

        var spec = requirement.Specifier;
        var candidates = project.Versions.Where(v => spec.Contains(v.Version)).ToList();
        var installs = candidates.FirstOrDefault(v => v.InstallsForRange);
        var what = spec.IsEmpty ? "" : $" that satisfies {requirement.SpecifierText}";
        if (installs is not null)
        {
            var newer = candidates[0] == installs ? "" : $" ({candidates[0].Version} is newer upstream: {candidates[0].Reason})";
            return (false, $"{environment} installs {name} {installs.Version}, the newest version it shows{what}{newer}");
        }

        if (candidates.Count == 0)
        {
            return (true, $"{environment} shows no version of {name}{what}: upstream lists none{NewestShown(environment, project)}");
        }

        return (true, $"{environment} shows no version of {name}{what}: the newest upstream, {candidates[0].Version}, is hidden: {candidates[0].Reason}{NewestShown(environment, project)}");
    }

    private static (bool, string?) JudgePin(string environment, LockFileRequirement requirement, ShownProject project, Pep440Version pinned)
    {
        var name = requirement.Name;
        var version = project.Versions.FirstOrDefault(v => v.Version == pinned);
        if (version is null)
        {
            return (true, $"{environment} shows no {name} {pinned}: upstream lists no such release{NewestShown(environment, project)}");
        }

        if (!version.Visible)
        {
            return (true, $"{environment} does not list {name} {pinned}: {version.Reason}{NewestShown(environment, project)}");
        }

        if (requirement.Sha256.Count == 0)
        {
            return (false, null);
        }

        // pip --require-hashes installs a file only when its sha256 is one the lock file allows.
        var allowed = requirement.Sha256.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var served = version.Files.Where(f => f.Served).ToList();
        if (served.Any(f => f.Sha256 is not null && allowed.Contains(f.Sha256)))
        {
            return (false, null);
        }

        // Why none: a file the lock file allows that the environment hides says so; otherwise the served files differ.
        var hidden = version.Files.FirstOrDefault(f => !f.Served && f.Sha256 is not null && allowed.Contains(f.Sha256));
        var why = hidden is not null
            ? $"{hidden.Filename} is hidden: {hidden.Reason}"
            : $"it serves {string.Join(", ", served.Select(f => $"{f.Filename} sha256 {f.Sha256}"))}";
        return (true, $"{environment} serves no file of {name} {pinned} with a sha256 the lock file allows: {why}");
    }

    private static string NewestShown(string environment, ShownProject project) =>
        project.Versions.FirstOrDefault(v => v.InstallsForRange) is { } newest ? $" ({environment} shows {project.Name} {newest.Version})" : "";
}

/// <summary>Reads the lock files a command is given; prints every problem and returns null when one is an error.</summary>
public static class LockFiles
{
    public static IReadOnlyList<LockFileRequirement>? Read(IReadOnlyList<string> files, TextWriter error)
    {
        var requirements = new List<LockFileRequirement>();
        var failed = false;
        foreach (var path in files)
        {
            var read = LockFileReader.Read(path);
            foreach (var problem in read.Problems)
            {
                error.WriteLine(problem.IsError ? $"error: {problem}" : $"note: {problem}");
            }

            failed |= !read.IsValid;
            requirements.AddRange(read.Requirements);
        }

        return failed ? null : requirements;
    }
}
