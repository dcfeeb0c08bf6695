using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.Pep508;

namespace CuratedIndex.Features.Releases.Cli;

/// <summary>
/// The argument of <c>approve</c> and <c>vet --with-deps</c>: a project, at most one exact version and its extras
/// (<c>flask</c>, <c>flask==3.0.3</c>, <c>flask[async,dotenv]==3.0.3</c>). A closure is computed for one release, so a
/// range is refused: the command cannot guess which release of the range the reviewer meant.
/// </summary>
/// <param name="Project">The PEP 503 normalized name.</param>
/// <param name="Version">The exact version, or null (the newest release on the environment's targets).</param>
/// <param name="Extras">PEP 685 normalized, each once.</param>
public sealed partial record ClosureRequirement(string Project, Pep440Version? Version, IReadOnlyList<string> Extras)
{
    /// <summary>Parses the argument; on failure <paramref name="error"/> says why in one line. Pure, never throws.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ClosureRequirement? requirement, [NotNullWhen(false)] out string? error)
    {
        requirement = null;
        var trimmed = text?.Trim() ?? "";
        var match = Shape().Match(trimmed);
        if (!match.Success)
        {
            error = $"'{Printable(trimmed)}' is not a requirement this command takes: give name, name==VERSION or name[extra,…]==VERSION";
            return false;
        }

        var name = match.Groups["name"].Value;
        if (!ProjectName.IsValid(name))
        {
            error = $"'{Printable(name)}' is not a valid project name";
            return false;
        }

        var extras = new List<string>();
        if (match.Groups["extras"].Success)
        {
            foreach (var extra in match.Groups["extras"].Value.Split(',').Select(e => e.Trim()))
            {
                if (!ProjectName.IsValid(extra))
                {
                    error = $"'{Printable(extra)}' is not a valid extra name in '{Printable(trimmed)}'";
                    return false;
                }

                var normalized = Requirement.NormalizeExtra(extra);
                if (!extras.Contains(normalized))
                {
                    extras.Add(normalized);
                }
            }
        }

        Pep440Version? version = null;
        if (match.Groups["rest"].Value.Trim() is { Length: > 0 } rest)
        {
            // Only `==VERSION` names one release; every other specifier (>=, ~=, !=, ==3.*, a marker, a URL) is a range or more.
            var pin = Pin().Match(rest);
            if (!pin.Success || pin.Groups["version"].Value.Contains('*', StringComparison.Ordinal))
            {
                error = $"'{Printable(trimmed)}': give one exact version (name==VERSION) or none, not '{Printable(rest)}': "
                    + "the dependencies are computed for one release";
                return false;
            }

            if (!Pep440Version.TryParse(pin.Groups["version"].Value, out version))
            {
                error = $"'{Printable(pin.Groups["version"].Value)}' is not a PEP 440 version";
                return false;
            }
        }

        requirement = new ClosureRequirement(ProjectName.Normalize(name), version, extras);
        error = null;
        return true;
    }

    /// <summary>As pip would write it: <c>flask[async]==3.0.3</c>.</summary>
    public override string ToString() =>
        Project + (Extras.Count > 0 ? $"[{string.Join(',', Extras)}]" : "") + (Version is null ? "" : $"=={Version}");

    private static string Printable(string text) => new(text.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[(?<extras>[^\]]*)\])?(?<rest>.*)$", RegexOptions.Singleline)]
    private static partial Regex Shape();

    [GeneratedRegex(@"^==\s*(?<version>[A-Za-z0-9._+!*-]+)\s*$")]
    private static partial Regex Pin();
}

/// <summary>What <c>approve</c> or <c>vet --with-deps</c> was asked to do.</summary>
/// <param name="Environment">Required with dependencies (the closure depends on its targets); null for a plain approval.</param>
/// <param name="Criteria">Vet only; null: the server's default.</param>
/// <param name="BreakGlass">Vet only: an admin's reason to vet inside the cooldown, or null.</param>
public sealed record ClosureCommandOptions(string? Environment, string? Reason, string? Criteria = null, string? BreakGlass = null, bool DryRun = false);

/// <summary>
/// <c>curated-index approve [--with-deps] REQ</c> and <c>curated-index vet --with-deps REQ --env ENV</c> through the
/// server's API: one call decides the project with every pending member of its dependency closure in the environment,
/// each member with its own audit record. One line per decision; when a member must be decided on its own first (denied,
/// internal, a typosquat finding, a signal) or the closure is incomplete, the server refuses (409) and the blockers are
/// printed one per line on standard error: exit 1. Exit 2 when the command could not run (usage, server, 4xx).
/// </summary>
public static class ApproveCommand
{
    public const string DefaultApproveReason = "approved with dependencies via curated-index approve";
    public const string DefaultVetReason = "vetted with dependencies via curated-index vet";
    public const string DefaultPlainReason = "approved via curated-index approve";

    /// <summary><c>approve REQ</c> (the project alone) or <c>approve --with-deps REQ --env ENV</c>.</summary>
    public static async Task<int> ApproveAsync(ServerClient client, string argument, bool withDependencies, ClosureCommandOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!ClosureRequirement.TryParse(argument, out var requirement, out var problem))
        {
            throw new ServerClientException(problem);
        }

        if (!withDependencies)
        {
            return await ApproveProjectAsync(client, requirement, options, output, error, cancellationToken);
        }

        var environment = EnvironmentOrRefuse(options, "approve --with-deps");
        var reason = Reason(options, DefaultApproveReason);
        if (options.DryRun)
        {
            return await DryRunAsync(client, requirement, requirement.Version, environment, vet: false, output, error, cancellationToken);
        }

        var answer = await client.PostJsonAsync($"projects/{Uri.EscapeDataString(requirement.Project)}/approve", new
        {
            reason,
            dependencies = true,
            env = environment,
            version = requirement.Version?.ToString(),
            extras = requirement.Extras.Count > 0 ? requirement.Extras : null,
        }, cancellationToken);
        return await ReportAsync(answer, requirement, environment, vet: false, output, error);
    }

    /// <summary><c>vet --with-deps REQ --env ENV</c>: without a version, the closure's root version is asked first.</summary>
    public static async Task<int> VetAsync(ServerClient client, string argument, ClosureCommandOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!ClosureRequirement.TryParse(argument, out var requirement, out var problem))
        {
            throw new ServerClientException(problem);
        }

        if (options.Criteria is not null && !VettingCriteria.IsKnown(options.Criteria))
        {
            throw new ServerClientException($"--criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}");
        }

        var environment = EnvironmentOrRefuse(options, "vet --with-deps");
        var reason = Reason(options, DefaultVetReason);
        if (options.BreakGlass is { } glass)
        {
            reason = $"{reason}; break-glass: {glass.Trim()}";
        }

        var version = requirement.Version;
        if (version is null)
        {
            // The vet route names a release: ask the server which one the closure starts from (the newest on the targets).
            var closure = await GetClosureAsync(client, requirement, null, environment, cancellationToken);
            var rootVersion = closure["version"]?.GetValue<string>();
            if (!Pep440Version.TryParse(rootVersion, out version))
            {
                throw new ServerClientException($"the server's closure of {requirement.Project} names no version");
            }
        }

        if (options.DryRun)
        {
            return await DryRunAsync(client, requirement, version, environment, vet: true, output, error, cancellationToken);
        }

        var answer = await client.PostJsonAsync($"projects/{Uri.EscapeDataString(requirement.Project)}/releases/{Uri.EscapeDataString(version.ToString())}/vet", new
        {
            reason,
            criteria = options.Criteria,
            dependencies = true,
            env = environment,
            extras = requirement.Extras.Count > 0 ? requirement.Extras : null,
            breakGlass = options.BreakGlass is not null,
        }, cancellationToken);
        return await ReportAsync(answer, requirement with { Version = version }, environment, vet: true, output, error);
    }

    private static async Task<int> ApproveProjectAsync(ServerClient client, ClosureRequirement requirement, ClosureCommandOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // A tier 2 approval is of a project in every environment; a version, extras or an environment would be silently ignored.
        if (requirement.Version is not null || requirement.Extras.Count > 0)
        {
            throw new ServerClientException($"approve without --with-deps approves the project '{requirement.Project}' (every release): give the name alone, or add --with-deps to approve that release's dependencies too");
        }

        if (options.Environment is not null || options.DryRun)
        {
            throw new ServerClientException("--env and --dry-run go with --with-deps: without it approve decides the project alone, in every environment");
        }

        var answer = await client.PostJsonAsync($"projects/{Uri.EscapeDataString(requirement.Project)}/approve", new { reason = Reason(options, DefaultPlainReason) }, cancellationToken);
        if (!answer.Ok)
        {
            throw new ServerClientException(answer.Message);
        }

        await output.WriteLineAsync($"approved {requirement.Project}");
        return 0;
    }

    /// <summary>Prints the decisions of a 200, the blockers of a 409; anything else stops the command.</summary>
    private static async Task<int> ReportAsync(ApiAnswer answer, ClosureRequirement requirement, string environment, bool vet, TextWriter output, TextWriter error)
    {
        if (answer.Status == HttpStatusCode.Conflict)
        {
            await error.WriteLineAsync(answer.Message);
            foreach (var blocker in Strings(answer.Json?["blockers"]))
            {
                await error.WriteLineAsync(blocker);
            }

            return 1;
        }

        if (!answer.Ok)
        {
            throw new ServerClientException(answer.Message);
        }

        var json = answer.Json!;
        var closure = json["closure"];
        var rootVersion = closure?["version"]?.GetValue<string>() ?? requirement.Version?.ToString() ?? "";
        var decided = json["decided"]?.AsArray().Select(d => (
            Project: d!["project"]!.GetValue<string>(),
            Version: d["version"]?.GetValue<string>() ?? "",
            Action: d["action"]!.GetValue<string>())).ToList() ?? [];
        foreach (var line in DecisionLines(requirement.Project, rootVersion, decided))
        {
            await output.WriteLineAsync(line);
        }

        var members = closure?["members"]?.AsArray().Select(m => m!["project"]!.GetValue<string>()).ToList() ?? [];
        var decidedProjects = decided.Select(d => d.Project).ToHashSet(StringComparer.Ordinal);
        var approved = decided.Count(d => d.Action == "approve");
        var vetted = decided.Count(d => d.Action == "vet");
        var already = members.Count(m => !decidedProjects.Contains(m));
        await output.WriteLineAsync(
            $"{requirement.Project} {rootVersion} with its dependencies in {environment}: {members.Count} project{Plural(members.Count)}, "
            + $"{approved} approved{(vet ? $", {vetted} vetted" : "")}, {already} already visible");
        return 0;
    }

    /// <summary>One line per decision, the root's first: <c>approved werkzeug (dependency of flask 3.0.3)</c>. Pure.</summary>
    public static IEnumerable<string> DecisionLines(string root, string rootVersion, IReadOnlyList<(string Project, string Version, string Action)> decided) =>
        decided
            .OrderBy(d => d.Project == root ? 0 : 1)
            .ThenBy(d => d.Action == "approve" ? 0 : 1)
            .Select(d =>
            {
                var what = d.Action == "vet" ? $"vetted {d.Project} {d.Version}" : $"approved {d.Project}";
                return d.Project == root ? what : $"{what} (dependency of {root} {rootVersion})";
            });

    /// <summary>--dry-run: what the call would decide and what would stop it, from the closure's statuses. Changes nothing.</summary>
    private static async Task<int> DryRunAsync(ServerClient client, ClosureRequirement requirement, Pep440Version? version, string environment, bool vet, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var closure = await GetClosureAsync(client, requirement, version, environment, cancellationToken);
        var root = requirement.Project;
        var rootVersion = closure["version"]?.GetValue<string>() ?? "";
        var would = 0;
        var members = closure["members"]?.AsArray() ?? [];
        foreach (var member in members)
        {
            var project = member!["project"]!.GetValue<string>();
            var status = member["status"]?.GetValue<string>();
            var what = (status, vet) switch
            {
                ("pending", false) => $"would approve {project}",
                ("pending", true) => $"would approve and vet {project} {member["version"]!.GetValue<string>()}",
                ("not-vetted", true) => $"would vet {project} {member["version"]!.GetValue<string>()}",
                _ => null,
            };
            if (what is not null && member["blocks"]?.GetValue<bool>() != true)
            {
                would++;
                await output.WriteLineAsync(project == root ? what : $"{what} (dependency of {root} {rootVersion})");
            }
        }

        var blockers = Strings(closure["blockers"]).ToList();
        var problems = closure["problems"]?.AsArray().Select(p => p!["message"]!.GetValue<string>()).ToList() ?? [];
        foreach (var line in blockers.Concat(problems))
        {
            await error.WriteLineAsync(line);
        }

        await output.WriteLineAsync($"dry run, nothing changed: {root} {rootVersion} with its dependencies in {environment}: {members.Count} project{Plural(members.Count)}, "
            + $"{would} would be decided, {blockers.Count + problems.Count} blocker{Plural(blockers.Count + problems.Count)}");
        return blockers.Count + problems.Count > 0 ? 1 : 0;
    }

    private static async Task<JsonNode> GetClosureAsync(ServerClient client, ClosureRequirement requirement, Pep440Version? version, string environment, CancellationToken cancellationToken)
    {
        var query = $"env={Uri.EscapeDataString(environment)}"
            + (version is null ? "" : $"&version={Uri.EscapeDataString(version.ToString())}")
            + (requirement.Extras.Count > 0 ? $"&extras={Uri.EscapeDataString(string.Join(',', requirement.Extras))}" : "");
        var answer = await client.GetAsync($"projects/{Uri.EscapeDataString(requirement.Project)}/closure?{query}", cancellationToken);
        return answer.Ok ? answer.Json! : throw new ServerClientException(answer.Message);
    }

    private static string EnvironmentOrRefuse(ClosureCommandOptions options, string verb) =>
        string.IsNullOrWhiteSpace(options.Environment)
            ? throw new ServerClientException($"{verb} needs --env ENV: the dependencies depend on the environment's Python versions and platforms")
            : options.Environment.Trim();

    private static string Reason(ClosureCommandOptions options, string fallback) =>
        string.IsNullOrWhiteSpace(options.Reason) ? fallback : options.Reason.Trim();

    private static IEnumerable<string> Strings(JsonNode? array) =>
        array is JsonArray items ? items.Select(i => i?.GetValue<string>()).OfType<string>() : [];

    private static string Plural(int count) => count == 1 ? "" : "s";
}
