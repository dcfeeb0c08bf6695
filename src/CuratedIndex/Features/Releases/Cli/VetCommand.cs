using System.Net;
using System.Text.Json.Nodes;

namespace CuratedIndex.Features.Releases.Cli;

/// <summary>What <c>curated-index vet</c> was asked to do.</summary>
/// <param name="Criteria">null: the server's default (<c>safe-to-deploy</c>).</param>
/// <param name="BreakGlass">An admin's reason to vet inside the cooldown, or null.</param>
public sealed record VetOptions(string Environment, string? Criteria, string? Reason, string? BreakGlass, bool DryRun);

/// <summary>
/// <c>curated-index vet -r FILE --env ENV</c>: onboards a service from its lock file. Approves each project the environment
/// does not show yet, then vets each pinned release with exactly the files whose sha256 the lock file holds (sent to the
/// server, which checks them against upstream again). A hash upstream does not list refuses that line. Exit 1 when a line
/// was refused, 2 when the command could not run.
/// </summary>
public static class VetCommand
{
    private const string Vetted = "vetted";
    private const string AlreadyVetted = "already vetted";
    private const string Refused = "refused";
    private const string Waiting = "waiting for cooldown";

    /// <summary>
    /// Why the arguments name neither or both of vet's modes (a lock file with -r; one release with --with-deps), or null. Pure.
    /// </summary>
    public static string? ModeProblem(IReadOnlyList<string>? files, bool withDependencies, string? requirement) =>
        (files is { Count: > 0 }, withDependencies, requirement is not null) switch
        {
            (true, true, _) => "give either -r FILE (vet a lock file's pins) or --with-deps REQUIREMENT (vet a release with its dependencies), not both",
            (true, false, true) => $"unexpected argument '{requirement}' with -r FILE (to vet a release with its dependencies: vet --with-deps '{requirement}')",
            (false, true, false) => "--with-deps needs a requirement: name, name==VERSION or name[extra,...]==VERSION",
            (false, false, true) => $"to vet '{requirement}' with its dependencies add --with-deps; to vet a lock file give -r FILE",
            (false, false, false) => "give -r FILE (vet a lock file's pins) or --with-deps REQUIREMENT (vet a release with its dependencies)",
            _ => null,
        };

    public static async Task<int> RunAsync(ServerClient client, IReadOnlyList<string> files, VetOptions options, TextWriter output, TextWriter error, bool terminal, CancellationToken cancellationToken)
    {
        if (options.Criteria is not null && !VettingCriteria.IsKnown(options.Criteria))
        {
            throw new ServerClientException($"--criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}");
        }

        if (LockFiles.Read(files, error) is not { } requirements)
        {
            return 2;
        }

        var source = string.Join(", ", files.Select(Path.GetFileName));
        var reason = string.IsNullOrWhiteSpace(options.Reason) ? $"onboarded from {source} with curated-index vet" : options.Reason.Trim();
        if (options.BreakGlass is { } glass)
        {
            reason = $"{reason}; break-glass: {glass.Trim()}";
        }

        var lines = Lines(requirements);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal) { [Vetted] = 0, [AlreadyVetted] = 0, [Refused] = 0, [Waiting] = 0 };
        var progress = new ProgressLine(output, terminal, lines.Count);
        var dry = options.DryRun ? "would be " : "";

        // Projects first: a release of a project the environment does not show cannot install, vetted or not.
        var blocked = new Dictionary<string, string>(StringComparer.Ordinal);
        var approved = 0;
        foreach (var name in lines.Select(l => l.Requirement.Name).Distinct(StringComparer.Ordinal))
        {
            var project = await CheckCommand.ShowAsync(client, options.Environment, name, cancellationToken);
            if (project.Visible || project.Problem is not null)
            {
                continue;
            }

            if (project.Rule != "not-approved")
            {
                blocked[name] = $"{options.Environment} shows no {name}: {project.Reason}";
                continue;
            }

            if (options.DryRun)
            {
                progress.Print($"{name}: would be approved");
                approved++;
                continue;
            }

            var answer = await client.PostJsonAsync($"projects/{Uri.EscapeDataString(name)}/approve", new { reason = $"onboarding: {name} is in {source}" }, cancellationToken);
            if (answer.Ok)
            {
                progress.Print($"{name}: approved");
                approved++;
            }
            else
            {
                blocked[name] = $"approving {name} failed: {answer.Message}";
            }
        }

        foreach (var line in lines)
        {
            progress.Advance(line.Label);
            var (outcome, message) = blocked.TryGetValue(line.Requirement.Name, out var why)
                ? (Refused, why)
                : await VetLineAsync(client, line, options, reason, cancellationToken);
            counts[outcome]++;
            var shown = outcome == Vetted ? dry + Vetted : outcome;
            progress.Print($"{line.Requirement.Location}: {line.Label}: {shown}: {message}");
        }

        progress.Done();
        await output.WriteLineAsync(
            $"{(options.DryRun ? "dry run, nothing changed: " : "")}{counts[Vetted]} {dry}vetted, {counts[AlreadyVetted]} already vetted, {counts[Refused]} refused, "
            + $"{counts[Waiting]} waiting for cooldown; {approved} project{(approved == 1 ? "" : "s")} {dry}approved");
        return counts[Refused] > 0 ? 1 : 0;
    }

    /// <summary>One pinned release to vet, with every hash and locked file the lock file gives for it.</summary>
    private sealed record VetLine(LockFileRequirement Requirement, string Label, HashSet<string> Sha256, IReadOnlyList<LockedFile> Files);

    // One line per release: a release listed twice (an include and a listing) is vetted once, with the hashes of both.
    private static List<VetLine> Lines(IReadOnlyList<LockFileRequirement> requirements)
    {
        var lines = new List<VetLine>();
        foreach (var requirement in requirements.Where(r => !r.IsConstraint))
        {
            var label = requirement.PinnedVersion is { } v ? $"{requirement.Name}=={v}" : requirement.Text;
            if (requirement.PinnedVersion is not null && lines.FirstOrDefault(l => l.Requirement.Name == requirement.Name && l.Requirement.PinnedVersion == requirement.PinnedVersion) is { } same)
            {
                same.Sha256.UnionWith(requirement.Sha256);
                continue;
            }

            lines.Add(new VetLine(requirement, label, requirement.Sha256.ToHashSet(StringComparer.OrdinalIgnoreCase), requirement.Files));
        }

        return lines;
    }

    private static async Task<(string Outcome, string Message)> VetLineAsync(ServerClient client, VetLine line, VetOptions options, string reason, CancellationToken cancellationToken)
    {
        var requirement = line.Requirement;
        if (requirement.PinnedVersion is not { } pinned)
        {
            return (Refused, "not pinned to one version (==): vet vets exact releases; lock the file first (pip-compile --generate-hashes, uv pip compile --generate-hashes)");
        }

        if (line.Sha256.Count == 0)
        {
            return (Refused, "no --hash: vet pins the files the lock file vouches for; lock with hashes (pip-compile --generate-hashes)");
        }

        var path = $"projects/{Uri.EscapeDataString(requirement.Name)}/releases/{Uri.EscapeDataString(pinned.ToString())}";
        var release = await client.GetAsync(path, cancellationToken);
        if (!release.Ok)
        {
            return (Refused, release.Message);
        }

        var json = release.Json!;
        if (json["upstream"]?.GetValue<string>() is { } upstreamProblem)
        {
            return (Refused, upstreamProblem);
        }

        var upstream = json["files"]!.AsArray()
            .Where(f => f!["pinned"]!.GetValue<string>() != PinState.UpstreamDropped && f["sha256"] is not null)
            .Select(f => (Filename: f!["filename"]!.GetValue<string>(), Sha256: f["sha256"]!.GetValue<string>().ToLowerInvariant()))
            .ToList();
        if (Mismatch(line, upstream, $"{requirement.Name} {pinned}") is { } mismatch)
        {
            return (Refused, mismatch);
        }

        var chosen = upstream.Where(f => line.Sha256.Contains(f.Sha256)).ToList();
        var criteria = options.Criteria ?? VettingCriteria.SafeToDeploy;
        var pins = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (json["decision"])
        {
            case JsonObject decision when decision["verdict"]!.GetValue<string>() == ReleaseVerdictText.Rejected:
                return (Refused, $"{decision["summary"]!.GetValue<string>()} here; vet does not override a rejection");
            case JsonObject decision:
                foreach (var file in decision["files"]!.AsArray())
                {
                    pins[file!["filename"]!.GetValue<string>()] = file["sha256"]!.GetValue<string>().ToLowerInvariant();
                }

                if (VettingCriteria.Satisfies(decision["criteria"]!.GetValue<string>(), criteria) && chosen.All(f => pins.GetValueOrDefault(f.Filename) == f.Sha256))
                {
                    return (AlreadyVetted, decision["summary"]!.GetValue<string>());
                }

                break;
        }

        // A new vetting replaces the old one: keep the files already pinned that upstream still lists with the pinned bytes.
        foreach (var (filename, sha256) in upstream.Where(f => pins.GetValueOrDefault(f.Filename) == f.Sha256 && chosen.All(c => c.Filename != f.Filename)))
        {
            chosen.Add((filename, sha256));
        }

        var fileList = string.Join(", ", chosen.Select(f => f.Filename).Order(StringComparer.Ordinal));
        if (options.DryRun)
        {
            return json["reviewerWait"]?.GetValue<string>() is { } wait && options.BreakGlass is null
                ? (Waiting, wait)
                : (Vetted, $"{criteria} with {fileList}");
        }

        var answer = await client.PostJsonAsync($"{path}/vet", new
        {
            reason,
            criteria,
            files = chosen.Select(f => f.Filename).ToList(),
            sha256 = chosen.ToDictionary(f => f.Filename, f => f.Sha256, StringComparer.Ordinal),
            breakGlass = options.BreakGlass is not null,
        }, cancellationToken);
        return answer.Status switch
        {
            HttpStatusCode.OK => (Vetted, $"{answer.Json!["summary"]!.GetValue<string>()} with {fileList}"),
            HttpStatusCode.Conflict => (Waiting, answer.Message),
            _ => (Refused, answer.Message),
        };
    }

    /// <summary>Why the lock file's hashes do not match upstream's files, or null when every one of them is a file upstream lists. Pure.</summary>
    public static string? Mismatch(LockFileRequirementHashes line, IReadOnlyList<(string Filename, string Sha256)> upstream, string release)
    {
        foreach (var locked in line.Files)
        {
            var listed = upstream.FirstOrDefault(f => f.Filename == locked.Filename);
            if (listed.Filename is null)
            {
                return $"{locked.Filename} is not a file upstream lists for {release}";
            }

            if (!string.Equals(listed.Sha256, locked.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return $"upstream's sha256 for {locked.Filename} is {listed.Sha256}, the lock file says {locked.Sha256.ToLowerInvariant()}; not vetted";
            }
        }

        var known = upstream.Select(f => f.Sha256).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = line.Sha256.Where(h => !known.Contains(h)).Order(StringComparer.Ordinal).ToList();
        return unknown.Count == 0
            ? null
            : $"sha256 {string.Join(", ", unknown)} in the lock file matches no file upstream lists for {release} "
              + $"(upstream: {string.Join(", ", upstream.Select(f => $"{f.Filename} {f.Sha256}"))}); not vetted";
    }

    private static string? Mismatch(VetLine line, IReadOnlyList<(string Filename, string Sha256)> upstream, string release) =>
        Mismatch(new LockFileRequirementHashes(line.Sha256, line.Files), upstream, release);
}

/// <summary>The hashes and locked files of one lock file line.</summary>
public sealed record LockFileRequirementHashes(IReadOnlySet<string> Sha256, IReadOnlyList<LockedFile> Files);

/// <summary>
/// A one-line progress bar redrawn in place on a terminal; elsewhere (a pipe, a CI log) plain lines only, so logs stay readable.
/// </summary>
public sealed class ProgressLine(TextWriter output, bool terminal, int total)
{
    private const int Width = 30;
    private int _done;
    private string _current = "";

    public void Advance(string current)
    {
        _current = current;
        Draw();
        _done++;
    }

    /// <summary>A line that stays: the bar is cleared, the line printed, the bar drawn again below it.</summary>
    public void Print(string line)
    {
        if (terminal)
        {
            output.Write("\r\u001b[2K");
        }

        output.WriteLine(line);
        Draw();
    }

    public void Done()
    {
        if (terminal)
        {
            output.Write("\r\u001b[2K");
            output.Flush();
        }
    }

    private void Draw()
    {
        if (!terminal || total == 0)
        {
            return;
        }

        var filled = Width * _done / total;
        output.Write($"\r\u001b[2K[{new string('#', filled)}{new string('.', Width - filled)}] {_done}/{total} {_current}");
        output.Flush();
    }
}
